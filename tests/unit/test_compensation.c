/* Unit tests for the claims compensation engine (daemon/compensation.c).
 *
 * Most tests are rows of one table, each run as its own cmocka test: a
 * waybill, a claim, an assessment and what the engine must answer. Fields a
 * row leaves zero get the neutral defaults of fill_defaults() (an uninsured
 * parcel packed by the sender, damaged in our handling, accepted at SZ01,
 * claimed without limit), so a row shows only what it is about. Rows named
 * "E<n>" are the worked examples of docs/compensation.md, figure for figure.
 *
 * Every row is also checked against the invariants in check_invariants(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "compensation.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define YUAN(y) ((int64_t)(y) * 100)
#define MAX_FEN COMP_MAX_AMOUNT_FEN

struct expect_step {
	enum comp_step_kind kind;
	const char *label;
	int64_t amount_fen;
	int64_t numerator;
	int64_t denominator;
};

struct expect_network {
	const char *paying_depot;
	const char *reimbursing_depot;
	int64_t reimbursement_fen;
	const char *bearing_depot;
	const char *sub_carrier;
	bool sub_carrier_recovery_expected;
	int64_t sub_carrier_recovery_fen;
	int64_t bearing_depot_net_fen;
};

struct assess_case {
	const char *name;
	void (*tune_config)(struct comp_config *config); /* NULL: defaults */
	struct comp_waybill waybill;
	struct comp_claim claim;
	struct comp_assessment assessment;

	/* Expected. Reason lists end at the first 0. */
	enum comp_decision decision;
	enum comp_reason reasons[COMP_MAX_REASONS];
	int64_t owed_fen;
	int64_t fee_refund_fen; /* part of owed_fen */
	int64_t ex_gratia_fen;
	enum comp_authority authority;
	enum comp_clause clause;
	bool covered;
	enum comp_reason insurer_reasons[COMP_MAX_REASONS];
	int64_t insurer_pays_fen;
	bool subrogation;
	const struct expect_network *network; /* NULL: not checked */
	const struct expect_step *steps;      /* NULL: not checked; ends at label NULL */
	const struct expect_step *insurer_steps;
};

/* ---------------------------------------------------------------------- */
/* Config variants                                                         */

static void config_multiple_1000(struct comp_config *config)
{
	config->uninsured_fee_multiple = 1000;
}

static void config_insurer_deductible_500_yuan(struct comp_config *config)
{
	config->insurer_deductible_fen = YUAN(500);
}

static void config_insurer_deductible_zero(struct comp_config *config)
{
	config->insurer_deductible_fen = 0;
}

static void config_no_deductible(struct comp_config *config)
{
	config->deductible_fen = 0;
	config->insurer_deductible_fen = 0;
}

static void config_ex_gratia_needs_manager(struct comp_config *config)
{
	config->ex_gratia_min_authority = COMP_AUTHORITY_MANAGER;
}

/* ---------------------------------------------------------------------- */
/* Expected step lists of the worked examples                              */

static const struct expect_step E1_STEPS[] = {
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(60), 0, 0 },
	{ COMP_STEP_AMOUNT, "after contract cap", YUAN(60), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(20), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(80), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(80), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(80), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E3_STEPS[] = {
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(2000), 0, 0 },
	{ COMP_STEP_RATIO, "under-insurance: declared / real value", 0, YUAN(3000), YUAN(5000) },
	{ COMP_STEP_AMOUNT, "after under-insurance", YUAN(1200), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: declared value", YUAN(3000), 0, 0 },
	{ COMP_STEP_AMOUNT, "after declared-value limit", YUAN(1200), 0, 0 },
	{ COMP_STEP_AMOUNT, "deductible", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "after deductible (never below zero)", YUAN(900), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(900), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(900), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E3_INSURER_STEPS[] = {
	{ COMP_STEP_FINDING, "clause A: all risks", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(2000), 0, 0 },
	{ COMP_STEP_RATIO, "under-insurance: declared / real value", 0, YUAN(3000), YUAN(5000) },
	{ COMP_STEP_AMOUNT, "after under-insurance", YUAN(1200), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: declared value", YUAN(3000), 0, 0 },
	{ COMP_STEP_AMOUNT, "after declared-value limit", YUAN(1200), 0, 0 },
	{ COMP_STEP_AMOUNT, "insurer deductible", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "after deductible (never below zero)", YUAN(900), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(900), 0, 0 },
	{ COMP_STEP_AMOUNT, "insurer pays", YUAN(900), 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E5_STEPS[] = {
	{ COMP_STEP_FINDING, "limited: indirect loss is never paid", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee", YUAN(25), 0, 0 },
	{ COMP_STEP_AMOUNT, "fee waived", YUAN(25), 0, 0 },
	{ COMP_STEP_AMOUNT, "indirect loss claimed", YUAN(75), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(25), 0, 0 },
	{ COMP_STEP_AMOUNT, "delay compensation (lower of waiver and claimed)", YUAN(25), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(25), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(25), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E6_STEPS[] = {
	{ COMP_STEP_AMOUNT, "service fee", 1005, 0, 0 },
	{ COMP_STEP_RATIO, "contract lateness discount", 0, 3000, 10000 },
	{ COMP_STEP_AMOUNT, "lateness discount on the fee", 302, 0, 0 },
	{ COMP_STEP_FINDING, "no deductible on a delay claim", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", 1005, 0, 0 },
	{ COMP_STEP_AMOUNT, "delay compensation (lower of waiver and claimed)", 302, 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", 302, 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", 302, 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E7_INSURER_STEPS[] = {
	{ COMP_STEP_FINDING, "clause B: named perils only", 0, 0, 0 },
	{ COMP_STEP_FINDING, "not covered: clause B pays only collision, fire, theft or water damage", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "insurer pays", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E10_STEPS[] = {
	{ COMP_STEP_FINDING, "exempt: improper packaging by the sender", 0, 0, 0 },
	{ COMP_STEP_FINDING, "exempt: our staff had advised better packaging", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(1800), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(1800), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(1800), 0, 0 },
	{ COMP_STEP_FINDING, "declared value covers the real value: no under-insurance", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: declared value", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "after declared-value limit", YUAN(1800), 0, 0 },
	{ COMP_STEP_AMOUNT, "deductible", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "after deductible (never below zero)", YUAN(1500), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(40), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(1540), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "ex gratia proposed", YUAN(200), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(200), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: supervisor", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E13_STEPS[] = {
	{ COMP_STEP_FINDING, "limited: goods described falsely, not liable beyond the declared value", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(800), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(800), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(800), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "after contract cap", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: declared value", YUAN(100), 0, 0 },
	{ COMP_STEP_AMOUNT, "after declared-value limit", YUAN(100), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(100), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(200), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(200), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(200), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step E14_STEPS[] = {
	{ COMP_STEP_FINDING, "force majeure not accepted as an exemption", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(40), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(40), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(40), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(45), 0, 0 },
	{ COMP_STEP_AMOUNT, "after contract cap", YUAN(40), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(15), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(55), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(55), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(55), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step DECLARED_EQUALS_REAL_STEPS[] = {
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", MAX_FEN, 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(2000), 0, 0 },
	{ COMP_STEP_FINDING, "declared value covers the real value: no under-insurance", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: declared value", YUAN(4000), 0, 0 },
	{ COMP_STEP_AMOUNT, "after declared-value limit", YUAN(2000), 0, 0 },
	{ COMP_STEP_AMOUNT, "deductible", YUAN(300), 0, 0 },
	{ COMP_STEP_AMOUNT, "after deductible (never below zero)", YUAN(1700), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(1700), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(1700), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: supervisor", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step DIFFERENT_ITEM_SIGNED_STEPS[] = {
	{ COMP_STEP_FINDING, "signed without remarks: says nothing about a different item", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(50), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", MAX_FEN, 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(50), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(60), 0, 0 },
	{ COMP_STEP_AMOUNT, "after contract cap", YUAN(50), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(20), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(70), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(70), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(70), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step CONTRACT_5_STEPS[] = {
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(100), 0, 0 },
	{ COMP_STEP_AMOUNT, "after contract cap", YUAN(100), 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(20), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(120), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(120), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(120), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

static const struct expect_step CAP_SET_ASIDE_STEPS[] = {
	{ COMP_STEP_AMOUNT, "actual loss assessed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "direct amount claimed", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "loss basis (lower of assessed and claimed)", YUAN(500), 0, 0 },
	{ COMP_STEP_AMOUNT, "limit: contract cap (fee x multiple)", YUAN(60), 0, 0 },
	{ COMP_STEP_FINDING, "contract cap set aside: the customer proved a higher loss", 0, 0, 0 },
	{ COMP_STEP_AMOUNT, "service fee refunded", YUAN(20), 0, 0 },
	{ COMP_STEP_AMOUNT, "compensation plus fee refunded", YUAN(520), 0, 0 },
	{ COMP_STEP_AMOUNT, "owed to the customer", YUAN(520), 0, 0 },
	{ COMP_STEP_AMOUNT, "payable to the customer", YUAN(520), 0, 0 },
	{ COMP_STEP_FINDING, "approval needed: adjuster", 0, 0, 0 },
	{ 0, NULL, 0, 0, 0 },
};

/* ---------------------------------------------------------------------- */
/* Expected network sides                                                  */

/* The fee refunded on a loss is part of what is owed: the responsible
 * depot reimburses it with the rest. */
static const struct expect_network NET_SAME_DEPOT = {
	"SZ01", "", 0, "SZ01", "", false, 0, YUAN(80),
};
static const struct expect_network NET_NOT_ESTABLISHED = {
	"SZ01", "", 0, "SZ01", "", false, 0, YUAN(80),
};
static const struct expect_network NET_OTHER_DEPOT = {
	"SZ01", "GZ03", YUAN(80), "GZ03", "", false, 0, YUAN(80),
};
static const struct expect_network E11_NETWORK = {
	"SZ01", "GZ03", YUAN(700), "GZ03", "Lingnan Freight", true, YUAN(700), 0,
};
static const struct expect_network NET_SUB_CARRIER_NO_CONTRACT = {
	"SZ01", "GZ03", YUAN(700), "GZ03", "Lingnan Freight", false, 0, YUAN(700),
};
static const struct expect_network E12_NETWORK = {
	"SZ01", "GZ03", YUAN(1750), "GZ03", "Lingnan Freight", true, YUAN(250), 0,
};
static const struct expect_network NET_INSURER_PAYS_ALL = {
	"SZ01", "GZ03", YUAN(1700), "GZ03", "Lingnan Freight", false, 0, 0,
};
static const struct expect_network NET_EXEMPT_WITH_EX_GRATIA = {
	"SZ01", "GZ03", 0, "GZ03", "", false, 0, 0,
};
static const struct expect_network NET_EX_GRATIA_NOT_REIMBURSED = {
	"SZ01", "GZ03", YUAN(80), "GZ03", "", false, 0, YUAN(80),
};

/* ---------------------------------------------------------------------- */
/* The table                                                               */

static const struct assess_case CASES[] = {
	/* ---- Worked examples (docs/compensation.md) ---- */
	{ .name = "E1 uninsured loss: contract cap 3 x fee, plus the fee refunded",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500) },
	  .assessment = { .actual_loss_fen = YUAN(500), .cause = COMP_CAUSE_THEFT },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .network = &NET_SAME_DEPOT, .steps = E1_STEPS },
	{ .name = "E2 insured loss, fully declared",
	  .waybill = { .fee_fen = YUAN(30), .insured = true, .declared_value_fen = YUAN(5000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(5000) },
	  .assessment = { .actual_loss_fen = YUAN(5000), .real_value_fen = YUAN(5000) },
	  .owed_fen = YUAN(4730), .fee_refund_fen = YUAN(30), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(4700) },
	{ .name = "E3 insured partial damage, under-insured",
	  .waybill = { .fee_fen = YUAN(30), .insured = true, .declared_value_fen = YUAN(3000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(2000) },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(5000) },
	  .owed_fen = YUAN(900), .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_pays_fen = YUAN(900), .steps = E3_STEPS, .insurer_steps = E3_INSURER_STEPS },
	{ .name = "E4a under-insurance 50000.5 fen rounds up to 50001",
	  .waybill = { .insured = true, .declared_value_fen = 100000 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = 100001 },
	  .assessment = { .actual_loss_fen = 100001, .real_value_fen = 200000 },
	  .owed_fen = 20001, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 20001 },
	{ .name = "E4b under-insurance 33333.33 fen rounds down to 33333",
	  .waybill = { .insured = true, .declared_value_fen = 100000 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = 100000 },
	  .assessment = { .actual_loss_fen = 100000, .real_value_fen = 300000 },
	  .owed_fen = 3333, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 3333 },
	{ .name = "E4c under-insurance 33333.67 fen rounds up to 33334",
	  .waybill = { .insured = true, .declared_value_fen = 100000 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = 100001 },
	  .assessment = { .actual_loss_fen = 100001, .real_value_fen = 300000 },
	  .owed_fen = 3334, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 3334 },
	{ .name = "E4d deductible after the ratio: 2000 x 1/2 - 300 = 700 (not 850)",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(2000) },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(2000) },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "E4e under-insurance without deductible shows the raw ratio",
	  .tune_config = config_no_deductible,
	  .waybill = { .insured = true, .declared_value_fen = 100000 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = 100001 },
	  .assessment = { .actual_loss_fen = 100001, .real_value_fen = 200000 },
	  .owed_fen = 50001, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 50001 },
	{ .name = "E5 delay: fee waived, indirect loss not paid",
	  .waybill = { .fee_fen = YUAN(25) },
	  .claim = { .type = COMP_CLAIM_DELAY, .claimed_fen = YUAN(100) },
	  .assessment = { .indirect_loss_fen = YUAN(75) },
	  .reasons = { COMP_REASON_INDIRECT_LOSS },
	  .owed_fen = YUAN(25), .steps = E5_STEPS },
	{ .name = "E6 delay: contract discount 30% of 10.05 yuan = 3.015 -> 3.02",
	  .waybill = { .fee_fen = 1005, .lateness_discount_bp = 3000, .insured = true,
		       .declared_value_fen = YUAN(800) },
	  .claim = { .type = COMP_CLAIM_DELAY, .claimed_fen = 1005 },
	  .owed_fen = 302, .clause = COMP_CLAUSE_A,
	  .insurer_reasons = { COMP_REASON_DELAY_NOT_COVERED }, .steps = E6_STEPS },
	{ .name = "E7 clause B, dropped in handling: customer paid, insurer refuses",
	  .waybill = { .fee_fen = YUAN(60), .insured = true, .declared_value_fen = YUAN(15000),
		       .used_goods = true, .max_piece_value_fen = YUAN(15000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(4000) },
	  .assessment = { .actual_loss_fen = YUAN(4000), .real_value_fen = YUAN(15000) },
	  .owed_fen = YUAN(3700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_B, .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED },
	  .insurer_steps = E7_INSURER_STEPS },
	{ .name = "E8 clause B, theft is a named peril: insurer pays",
	  .waybill = { .fee_fen = YUAN(60), .insured = true, .declared_value_fen = YUAN(15000),
		       .used_goods = true, .max_piece_value_fen = YUAN(15000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(15000) },
	  .assessment = { .actual_loss_fen = YUAN(15000), .real_value_fen = YUAN(15000),
			  .cause = COMP_CAUSE_THEFT },
	  .owed_fen = YUAN(14760), .fee_refund_fen = YUAN(60), .authority = COMP_AUTHORITY_MANAGER,
	  .clause = COMP_CLAUSE_B, .covered = true, .insurer_pays_fen = YUAN(14700) },
	{ .name = "E9 signed by the consignee without remarks: a finding, a supervisor decides",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(300) },
	  .assessment = { .actual_loss_fen = YUAN(300) },
	  .owed_fen = YUAN(60), .authority = COMP_AUTHORITY_SUPERVISOR, .reasons = { COMP_REASON_SIGNED_WITHOUT_REMARKS } },
	{ .name = "E10 improper packaging after advice: exempt, ex gratia 200 yuan",
	  .waybill = { .fee_fen = YUAN(40), .insured = true, .declared_value_fen = YUAN(2000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL, .claimed_fen = YUAN(1800),
		     .ex_gratia_fen = YUAN(200) },
	  .assessment = { .actual_loss_fen = YUAN(1800), .real_value_fen = YUAN(1800),
			  .cause = COMP_CAUSE_IMPROPER_PACKAGING, .fault = COMP_FAULT_NONE,
			  .staff_advised_packaging = true },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_IMPROPER_PACKAGING, COMP_REASON_PACKAGING_ADVICE_IGNORED },
	  .ex_gratia_fen = YUAN(200), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .insurer_reasons = { COMP_REASON_EXCLUDED_IMPROPER_PACKAGING },
	  .steps = E10_STEPS },
	{ .name = "E11 sub-carrier at fault, contract: GZ03 reimburses, recovers from it",
	  .waybill = { .fee_fen = YUAN(200) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500) },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "GZ03",
			  .sub_carrier_at_fault = true, .sub_carrier = "Lingnan Freight",
			  .sub_carrier_has_contract = true },
	  .owed_fen = YUAN(700), .fee_refund_fen = YUAN(200), .network = &E11_NETWORK },
	{ .name = "E12 insured, sub-carrier at fault: insurer and depot share the recovery",
	  .tune_config = config_insurer_deductible_500_yuan,
	  .waybill = { .fee_fen = YUAN(50), .insured = true, .declared_value_fen = YUAN(2000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(2000) },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(2000),
			  .responsible_depot = "GZ03", .sub_carrier_at_fault = true,
			  .sub_carrier = "Lingnan Freight", .sub_carrier_has_contract = true },
	  .owed_fen = YUAN(1750), .fee_refund_fen = YUAN(50), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(1500),
	  .subrogation = true, .network = &E12_NETWORK },
	{ .name = "E13 false description, uninsured: capped at the declared 100 yuan",
	  .waybill = { .fee_fen = YUAN(100), .declared_value_fen = YUAN(100),
		       .goods_described_falsely = true },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(800) },
	  .assessment = { .actual_loss_fen = YUAN(800) },
	  .reasons = { COMP_REASON_FALSE_DESCRIPTION }, .owed_fen = YUAN(200), .fee_refund_fen = YUAN(100), .steps = E13_STEPS },
	{ .name = "E14 flood while we held the parcel late: force majeure not accepted",
	  .waybill = { .fee_fen = YUAN(15) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL, .claimed_fen = YUAN(40) },
	  .assessment = { .actual_loss_fen = YUAN(40), .cause = COMP_CAUSE_FORCE_MAJEURE,
			  .fault = COMP_FAULT_OURS },
	  .owed_fen = YUAN(55), .fee_refund_fen = YUAN(15), .steps = E14_STEPS },

	/* ---- Uninsured: the contract cap (a contract term, not law) ---- */
	{ .name = "contract cap: the customer's contract sets 5 x the fee",
	  .waybill = { .fee_fen = YUAN(20), .contract_fee_multiple_set = true, .contract_fee_multiple = 5 },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500) },
	  .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(120), .fee_refund_fen = YUAN(20), .steps = CONTRACT_5_STEPS },
	{ .name = "contract cap: a contract of 0 x the fee leaves only the fee refunded",
	  .waybill = { .fee_fen = YUAN(20), .contract_fee_multiple_set = true, .contract_fee_multiple = 0 },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(20), .fee_refund_fen = YUAN(20) },
	{ .name = "contract cap: the contract's multiple replaces the config's, even below it",
	  .tune_config = config_multiple_1000,
	  .waybill = { .fee_fen = YUAN(20), .contract_fee_multiple_set = true, .contract_fee_multiple = 2 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(40) },
	{ .name = "contract cap set aside: the proven loss is paid, plus the fee",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500) },
	  .assessment = { .actual_loss_fen = YUAN(500), .cap_set_aside = true },
	  .owed_fen = YUAN(520), .fee_refund_fen = YUAN(20), .steps = CAP_SET_ASIDE_STEPS },
	{ .name = "contract cap set aside: still never more than claimed",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(300) },
	  .assessment = { .actual_loss_fen = YUAN(500), .cap_set_aside = true },
	  .owed_fen = YUAN(300) },
	{ .name = "contract cap set aside: a false description still caps at the declared value",
	  .waybill = { .fee_fen = YUAN(20), .declared_value_fen = YUAN(100), .goods_described_falsely = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .cap_set_aside = true },
	  .reasons = { COMP_REASON_FALSE_DESCRIPTION }, .owed_fen = YUAN(100) },
	{ .name = "contract cap not set aside: the same loss is capped",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(300) },
	  .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(60) },
	{ .name = "fee refund: a short delivery pays the actual loss without it",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_MISMATCH_SHORT }, .assessment = { .actual_loss_fen = YUAN(30) },
	  .owed_fen = YUAN(30) },
	{ .name = "fee refund: insured total damage, on top of the compensation after the deductible",
	  .waybill = { .fee_fen = YUAN(35), .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL, .claimed_fen = YUAN(1000) },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(735), .fee_refund_fen = YUAN(35), .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_pays_fen = YUAN(700) },
	{ .name = "fee refund: insured, loss below the deductible still refunds the fee",
	  .waybill = { .fee_fen = YUAN(35), .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(200) },
	  .assessment = { .actual_loss_fen = YUAN(200), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(35), .fee_refund_fen = YUAN(35), .clause = COMP_CLAUSE_A, .covered = true },
	{ .name = "fee refund: not when exempt",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50), .fault = COMP_FAULT_SENDER },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_SENDER_FAULT } },

	/* ---- Uninsured limit: 3 x fee ---- */
	{ .name = "uninsured loss exactly 3 x fee is paid in full",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(60) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20) },
	{ .name = "uninsured loss one fen over 3 x fee is capped",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(60) + 1 },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20) },
	{ .name = "uninsured loss one fen under 3 x fee is paid in full",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(60) - 1 },
	  .owed_fen = YUAN(80) - 1, .fee_refund_fen = YUAN(20) },
	{ .name = "uninsured, zero fee: liable but the limit is zero",
	  .waybill = { .fee_fen = 0 },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(300) },
	  .owed_fen = 0 },
	{ .name = "uninsured, zero loss: nothing owed",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = 0 },
	  .owed_fen = 0 },
	{ .name = "uninsured: no deductible",
	  .waybill = { .fee_fen = YUAN(200) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(100) },
	  .owed_fen = YUAN(300), .fee_refund_fen = YUAN(200) },
	{ .name = "uninsured: a declared value does not raise the limit",
	  .waybill = { .fee_fen = YUAN(20), .declared_value_fen = YUAN(5000) },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(5000) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20) },
	{ .name = "uninsured: real value above declared does not apply a ratio",
	  .waybill = { .fee_fen = YUAN(200), .declared_value_fen = YUAN(100) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(400), .real_value_fen = YUAN(800) },
	  .owed_fen = YUAN(600), .fee_refund_fen = YUAN(200) },

	/* ---- Insured: declared value, under-insurance, deductible ---- */
	{ .name = "insured, declared == real: no ratio",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(4000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(4000) },
	  .owed_fen = YUAN(1700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(1700),
	  .steps = DECLARED_EQUALS_REAL_STEPS },
	{ .name = "insured, declared one fen below real: ratio applies",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(4000) - 1 },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(4000), .real_value_fen = YUAN(4000) },
	  .owed_fen = YUAN(4000) - 1 - YUAN(300), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(4000) - 1 - YUAN(300) },
	{ .name = "insured, over-insured (declared above real): loss paid, no ratio",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(9000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(3000), .real_value_fen = YUAN(3000) },
	  .owed_fen = YUAN(2700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(2700) },
	{ .name = "insured, real value not established: no ratio, declared cap",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = 0 },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "insured total loss under-insured: ratio alone, not ratio then cap",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(5000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(10000), .real_value_fen = YUAN(10000) },
	  /* 10000 x 5000/10000 = 5000 (not 2500), minus 300 */
	  .owed_fen = YUAN(4700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(4700) },
	{ .name = "insured, deductible larger than the loss: zero, never negative",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(200), .real_value_fen = YUAN(1000) },
	  .owed_fen = 0, .clause = COMP_CLAUSE_A, .covered = true },
	{ .name = "insured, loss equal to the deductible: zero",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(300), .real_value_fen = YUAN(1000) },
	  .owed_fen = 0, .clause = COMP_CLAUSE_A, .covered = true },
	{ .name = "insured, loss one fen above the deductible: one fen",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(300) + 1, .real_value_fen = YUAN(1000) },
	  .owed_fen = 1, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 1 },
	{ .name = "insured: the 3 x fee limit does not apply",
	  .waybill = { .fee_fen = YUAN(10), .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(710), .fee_refund_fen = YUAN(10), .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_pays_fen = YUAN(700) },
	{ .name = "insured with false description: declared cap already applies",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(500), .goods_described_falsely = true },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = 0 },
	  .reasons = { COMP_REASON_FALSE_DESCRIPTION },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(200) },

	/* ---- The claim caps what we pay ---- */
	{ .name = "claimed less than assessed: pay the claim, the fee refund on top",
	  .waybill = { .fee_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(1500) },
	  .assessment = { .actual_loss_fen = YUAN(2500) },
	  .owed_fen = YUAN(2500), .fee_refund_fen = YUAN(1000), .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "insured, claimed less than assessed: deductible from the claimed basis",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(5000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(1000) },
	  .assessment = { .actual_loss_fen = YUAN(5000), .real_value_fen = YUAN(5000) },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "indirect loss is never paid: only the direct part counts",
	  .waybill = { .fee_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(800) },
	  .assessment = { .actual_loss_fen = YUAN(700), .indirect_loss_fen = YUAN(300) },
	  .reasons = { COMP_REASON_INDIRECT_LOSS }, .owed_fen = YUAN(500) },
	{ .name = "indirect loss: a claim that is all indirect pays nothing",
	  .waybill = { .fee_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(800) },
	  .assessment = { .actual_loss_fen = YUAN(700), .indirect_loss_fen = YUAN(800) },
	  .reasons = { COMP_REASON_INDIRECT_LOSS }, .owed_fen = 0 },
	{ .name = "indirect loss on an insured claim: insurer lists the exclusion, still covers",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(1500) },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000),
			  .indirect_loss_fen = YUAN(500) },
	  .reasons = { COMP_REASON_INDIRECT_LOSS }, .owed_fen = YUAN(700),
	  .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_reasons = { COMP_REASON_EXCLUDED_INDIRECT_LOSS }, .insurer_pays_fen = YUAN(700) },

	/* ---- Claim types: all goods claims start from the assessed loss ---- */
	{ .name = "loss pays the actual value",
	  .waybill = { .fee_fen = YUAN(100) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(250) }, .owed_fen = YUAN(350), .fee_refund_fen = YUAN(100) },
	{ .name = "total damage is paid as loss",
	  .waybill = { .fee_fen = YUAN(100) }, .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL },
	  .assessment = { .actual_loss_fen = YUAN(250) }, .owed_fen = YUAN(350), .fee_refund_fen = YUAN(100) },
	{ .name = "partial damage pays the share lost",
	  .waybill = { .fee_fen = YUAN(100) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(80), .real_value_fen = YUAN(250) },
	  .owed_fen = YUAN(80) },
	{ .name = "different item is paid as total damage",
	  .waybill = { .fee_fen = YUAN(100) }, .claim = { .type = COMP_CLAIM_MISMATCH_DIFFERENT_ITEM },
	  .assessment = { .actual_loss_fen = YUAN(250), .real_value_fen = YUAN(250) },
	  .owed_fen = YUAN(350), .fee_refund_fen = YUAN(100) },
	{ .name = "short quantity is paid as partial damage",
	  .waybill = { .fee_fen = YUAN(100) }, .claim = { .type = COMP_CLAIM_MISMATCH_SHORT },
	  .assessment = { .actual_loss_fen = YUAN(50), .real_value_fen = YUAN(250) },
	  .owed_fen = YUAN(50) },

	/* ---- Delay ---- */
	{ .name = "delay, uninsured: the whole fee is waived",
	  .waybill = { .fee_fen = YUAN(18) }, .claim = { .type = COMP_CLAIM_DELAY },
	  .owed_fen = YUAN(18) },
	{ .name = "delay, insured: fee waived, no deductible, insurer not involved",
	  .waybill = { .fee_fen = YUAN(18), .insured = true, .declared_value_fen = YUAN(5000) },
	  .claim = { .type = COMP_CLAIM_DELAY },
	  .owed_fen = YUAN(18), .clause = COMP_CLAUSE_A,
	  .insurer_reasons = { COMP_REASON_DELAY_NOT_COVERED } },
	{ .name = "delay, zero fee: nothing to waive",
	  .waybill = { .fee_fen = 0 }, .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 0 },
	{ .name = "delay: the goods' value and the 3 x limit play no part",
	  .waybill = { .fee_fen = YUAN(18) }, .claim = { .type = COMP_CLAIM_DELAY },
	  .assessment = { .actual_loss_fen = YUAN(900) }, .owed_fen = YUAN(18) },
	{ .name = "delay: claimed less than the fee pays the claim",
	  .waybill = { .fee_fen = YUAN(18) }, .claim = { .type = COMP_CLAIM_DELAY, .claimed_fen = YUAN(10) },
	  .owed_fen = YUAN(10) },
	{ .name = "delay: contract discount 100% is the whole fee",
	  .waybill = { .fee_fen = 1005, .lateness_discount_bp = 10000 },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 1005 },
	{ .name = "delay: contract discount 1 bp of 10.05 yuan rounds to 0",
	  .waybill = { .fee_fen = 1005, .lateness_discount_bp = 1 },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 0 },
	{ .name = "delay: contract discount 50% of 10.03 yuan = 5.015 -> 5.02",
	  .waybill = { .fee_fen = 1003, .lateness_discount_bp = 5000 },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 502 },
	{ .name = "delay: contract discount 25% of 10.01 yuan = 2.5025 -> 2.50",
	  .waybill = { .fee_fen = 1001, .lateness_discount_bp = 2500 },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 250 },
	{ .name = "delay: contract discount 15% of 20 yuan = 3 yuan, not the whole fee",
	  .waybill = { .fee_fen = 2000, .lateness_discount_bp = 1500 },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 300 },
	{ .name = "delay: a discount set for the claim is paid like the contract's",
	  .waybill = { .fee_fen = 2000, .lateness_discount_bp = 2500, .lateness_discount_for_claim = true },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 500 },
	{ .name = "delay: the contract's discount set aside for the claim waives the whole fee",
	  .waybill = { .fee_fen = 2000, .lateness_discount_for_claim = true },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = 2000 },
	{ .name = "delay: false description does not limit a fee waiver",
	  .waybill = { .fee_fen = YUAN(18), .goods_described_falsely = true },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = YUAN(18) },
	{ .name = "delay caused by the sender: exempt",
	  .waybill = { .fee_fen = YUAN(18) }, .claim = { .type = COMP_CLAIM_DELAY },
	  .assessment = { .fault = COMP_FAULT_SENDER, .cause = COMP_CAUSE_UNKNOWN },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_SENDER_FAULT } },
	{ .name = "delay by force majeure (snowstorm): exempt",
	  .waybill = { .fee_fen = YUAN(18) }, .claim = { .type = COMP_CLAIM_DELAY },
	  .assessment = { .cause = COMP_CAUSE_FORCE_MAJEURE, .fault = COMP_FAULT_NONE },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_FORCE_MAJEURE } },
	{ .name = "delay: signed without remarks does not bar it",
	  .waybill = { .fee_fen = YUAN(18), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DELAY }, .owed_fen = YUAN(18) },

	/* ---- Exemptions ---- */
	{ .name = "force majeure, insured, clause B: paid to the customer, the insurer excludes it",
	  .waybill = { .fee_fen = YUAN(60), .insured = true, .declared_value_fen = YUAN(15000),
		       .used_goods = true, .max_piece_value_fen = YUAN(15000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(2000) },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(15000),
			  .cause = COMP_CAUSE_FORCE_MAJEURE, .fault = COMP_FAULT_NONE },
	  .owed_fen = YUAN(1700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_B, .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED } },
	{ .name = "force majeure, nobody's fault: exempt",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_FORCE_MAJEURE,
			  .fault = COMP_FAULT_NONE },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_FORCE_MAJEURE } },
	{ .name = "force majeure, insured: paid despite it, insurer covers",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(3000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(3000), .real_value_fen = YUAN(3000),
			  .cause = COMP_CAUSE_FORCE_MAJEURE, .fault = COMP_FAULT_NONE },
	  .owed_fen = YUAN(2700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(2700) },
	{ .name = "force majeure and the sender's fault: both listed",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_FORCE_MAJEURE,
			  .fault = COMP_FAULT_SENDER },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_FORCE_MAJEURE, COMP_REASON_SENDER_FAULT } },
	{ .name = "nature of the goods: exempt, insurer excludes inherent vice",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(600) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL },
	  .assessment = { .actual_loss_fen = YUAN(600), .real_value_fen = YUAN(600),
			  .cause = COMP_CAUSE_NATURE_OF_GOODS, .fault = COMP_FAULT_NONE },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_NATURE_OF_GOODS },
	  .clause = COMP_CLAUSE_A, .insurer_reasons = { COMP_REASON_EXCLUDED_INHERENT_VICE } },
	{ .name = "nature of the goods, but our fault: liable, insurer still excludes",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(600) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL },
	  .assessment = { .actual_loss_fen = YUAN(600), .real_value_fen = YUAN(600),
			  .cause = COMP_CAUSE_NATURE_OF_GOODS, .fault = COMP_FAULT_OURS },
	  .owed_fen = YUAN(300),
	  .clause = COMP_CLAUSE_A, .insurer_reasons = { COMP_REASON_EXCLUDED_INHERENT_VICE } },
	{ .name = "the sender's fault: exempt",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .fault = COMP_FAULT_SENDER },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_SENDER_FAULT } },
	{ .name = "the receiver's fault: exempt",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .fault = COMP_FAULT_RECEIVER },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_RECEIVER_FAULT } },
	{ .name = "nobody's fault, ordinary cause: liable (burden is ours)",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(50), .fault = COMP_FAULT_NONE,
			  .cause = COMP_CAUSE_UNKNOWN },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20) },
	{ .name = "improper packaging by the sender, no advice: exempt",
	  .waybill = { .fee_fen = YUAN(20), .packaging = COMP_PACKAGING_SENDER_OWN },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_IMPROPER_PACKAGING,
			  .fault = COMP_FAULT_NONE },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_IMPROPER_PACKAGING } },
	{ .name = "improper packaging, sent bare, found the sender's fault",
	  .waybill = { .fee_fen = YUAN(20), .packaging = COMP_PACKAGING_BARE },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_IMPROPER_PACKAGING,
			  .fault = COMP_FAULT_SENDER, .staff_advised_packaging = true },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_SENDER_FAULT, COMP_REASON_IMPROPER_PACKAGING,
		       COMP_REASON_PACKAGING_ADVICE_IGNORED } },
	{ .name = "improper packaging in original factory packing: still the sender's",
	  .waybill = { .fee_fen = YUAN(20), .packaging = COMP_PACKAGING_ORIGINAL_FACTORY },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_IMPROPER_PACKAGING,
			  .fault = COMP_FAULT_NONE },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_IMPROPER_PACKAGING } },
	{ .name = "improper packaging, but we packed it: liable, insurer excludes",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000),
		       .packaging = COMP_PACKAGING_CARRIER },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = YUAN(1000),
			  .cause = COMP_CAUSE_IMPROPER_PACKAGING, .fault = COMP_FAULT_NONE,
			  .staff_advised_packaging = true },
	  .owed_fen = YUAN(200),
	  .clause = COMP_CLAUSE_A, .insurer_reasons = { COMP_REASON_EXCLUDED_IMPROPER_PACKAGING } },
	{ .name = "improper packaging, sender packed, but assessor found our fault: liable",
	  .waybill = { .fee_fen = YUAN(20), .packaging = COMP_PACKAGING_SENDER_OWN },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_IMPROPER_PACKAGING,
			  .fault = COMP_FAULT_OURS },
	  .owed_fen = YUAN(50) },
	{ .name = "staff advised packaging, but the cause was handling: liable",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .cause = COMP_CAUSE_HANDLING,
			  .staff_advised_packaging = true },
	  .owed_fen = YUAN(50) },
	{ .name = "over-limit piece not declared: exempt, insurer excludes",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000), .over_limit = true },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_OVER_LIMIT_UNDECLARED },
	  .clause = COMP_CLAUSE_A, .insurer_reasons = { COMP_REASON_EXCLUDED_OVER_LIMIT_UNDECLARED } },
	{ .name = "over-limit piece declared, insured: liable and covered",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000), .over_limit = true,
		       .over_limit_declared = true },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "over-limit piece declared: liable",
	  .waybill = { .fee_fen = YUAN(20), .over_limit = true, .over_limit_declared = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20) },
	{ .name = "declared over-limit flag without an over-limit piece: liable",
	  .waybill = { .fee_fen = YUAN(20), .over_limit_declared = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20) },
	{ .name = "prohibited goods: exempt",
	  .waybill = { .fee_fen = YUAN(20), .prohibited_goods = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_PROHIBITED_GOODS } },
	{ .name = "prohibited goods: no ex gratia either",
	  .waybill = { .fee_fen = YUAN(20), .prohibited_goods = true },
	  .claim = { .type = COMP_CLAIM_LOSS, .ex_gratia_fen = YUAN(30) },
	  .assessment = { .actual_loss_fen = YUAN(50) },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_PROHIBITED_GOODS } },
	{ .name = "false description with an exemption: exempt, limit still listed",
	  .waybill = { .fee_fen = YUAN(20), .goods_described_falsely = true, .prohibited_goods = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_FALSE_DESCRIPTION, COMP_REASON_PROHIBITED_GOODS } },
	{ .name = "false description, nothing declared: only the fee refunded",
	  .waybill = { .fee_fen = YUAN(20), .goods_described_falsely = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .reasons = { COMP_REASON_FALSE_DESCRIPTION }, .owed_fen = YUAN(20), .fee_refund_fen = YUAN(20) },
	{ .name = "every reason at once is listed, in order",
	  .waybill = { .fee_fen = YUAN(20), .insured = true, .declared_value_fen = YUAN(100),
		       .over_limit = true, .goods_described_falsely = true, .prohibited_goods = true,
		       .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true, .used_goods = true,
		       .max_piece_value_fen = YUAN(20000) },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(200),
		     .ex_gratia_fen = YUAN(10) },
	  .assessment = { .actual_loss_fen = YUAN(100), .real_value_fen = YUAN(100),
			  .cause = COMP_CAUSE_NATURE_OF_GOODS, .fault = COMP_FAULT_RECEIVER,
			  .indirect_loss_fen = YUAN(50), .intentional_act = true },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_NATURE_OF_GOODS, COMP_REASON_RECEIVER_FAULT,
		       COMP_REASON_OVER_LIMIT_UNDECLARED, COMP_REASON_FALSE_DESCRIPTION,
		       COMP_REASON_PROHIBITED_GOODS, COMP_REASON_SIGNED_WITHOUT_REMARKS,
		       COMP_REASON_INDIRECT_LOSS },
	  .clause = COMP_CLAUSE_B,
	  .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED, COMP_REASON_EXCLUDED_OVER_LIMIT_UNDECLARED,
			       COMP_REASON_EXCLUDED_INHERENT_VICE, COMP_REASON_EXCLUDED_INTENTIONAL_ACT,
			       COMP_REASON_EXCLUDED_INDIRECT_LOSS } },

	/* ---- Signed without remarks ---- */
	{ .name = "signed without remarks: total damage paid, a supervisor decides",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_TOTAL }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20),
	  .authority = COMP_AUTHORITY_SUPERVISOR, .reasons = { COMP_REASON_SIGNED_WITHOUT_REMARKS } },
	{ .name = "signed without remarks: shortage paid, a supervisor decides",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_MISMATCH_SHORT }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50), .authority = COMP_AUTHORITY_SUPERVISOR, .reasons = { COMP_REASON_SIGNED_WITHOUT_REMARKS } },
	{ .name = "signed without remarks: no finding on a different item",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_MISMATCH_DIFFERENT_ITEM },
	  .assessment = { .actual_loss_fen = YUAN(50) }, .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20),
	  .steps = DIFFERENT_ITEM_SIGNED_STEPS },
	{ .name = "signed without remarks: no finding on a loss",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_LOSS }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20) },
	{ .name = "signed with remarks: damage claim stands",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true, .signed_with_remarks = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50) },
	{ .name = "signed without remarks, but not by the consignee: claim stands",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = false,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50) },
	{ .name = "signed without remarks, but no proof of delivery: claim stands",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = false },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50) },
	{ .name = "not delivered: signature fields are ignored",
	  .waybill = { .fee_fen = YUAN(20), .delivered = false, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL }, .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50) },
	{ .name = "a clean signature and an exemption: exempt, both listed, no supervisor",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(50), .fault = COMP_FAULT_RECEIVER },
	  .decision = COMP_DECISION_EXEMPT,
	  .reasons = { COMP_REASON_RECEIVER_FAULT, COMP_REASON_SIGNED_WITHOUT_REMARKS } },
	{ .name = "clean signature, claim already paid in full: no ex gratia, supervisor",
	  .waybill = { .fee_fen = YUAN(20), .delivered = true, .signer_is_consignee = true,
		       .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(50), .ex_gratia_fen = YUAN(20) },
	  .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(50), .reasons = { COMP_REASON_SIGNED_WITHOUT_REMARKS },
	  .ex_gratia_fen = 0, .authority = COMP_AUTHORITY_SUPERVISOR },

	/* ---- Ex gratia ---- */
	{ .name = "ex gratia above the uninsured limit: supervisor",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500), .ex_gratia_fen = YUAN(100) },
	  .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .ex_gratia_fen = YUAN(100), .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "ex gratia limited so the total stays within the claim",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(100), .ex_gratia_fen = YUAN(100) },
	  .assessment = { .actual_loss_fen = YUAN(100) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .ex_gratia_fen = YUAN(40), .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "ex gratia when the rules already pay the whole claim: none granted",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(50), .ex_gratia_fen = YUAN(100) },
	  .assessment = { .actual_loss_fen = YUAN(50) },
	  .owed_fen = YUAN(70), .fee_refund_fen = YUAN(20), .ex_gratia_fen = 0, .authority = COMP_AUTHORITY_ADJUSTER },
	{ .name = "ex gratia of one fen: still a supervisor",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500), .ex_gratia_fen = 1 },
	  .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .ex_gratia_fen = 1, .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "ex gratia pushing the total above the supervisor limit: manager",
	  .waybill = { .fee_fen = YUAN(2000) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(20000), .ex_gratia_fen = YUAN(5000) },
	  .assessment = { .actual_loss_fen = YUAN(20000) },
	  .owed_fen = YUAN(8000), .fee_refund_fen = YUAN(2000), .ex_gratia_fen = YUAN(5000), .authority = COMP_AUTHORITY_MANAGER },
	{ .name = "ex gratia with config requiring a manager",
	  .tune_config = config_ex_gratia_needs_manager,
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500), .ex_gratia_fen = YUAN(10) },
	  .assessment = { .actual_loss_fen = YUAN(500) },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .ex_gratia_fen = YUAN(10), .authority = COMP_AUTHORITY_MANAGER },

	/* ---- Authority boundaries ---- */
	{ .name = "authority: exactly 1,000 yuan is an adjuster's",
	  .waybill = { .fee_fen = YUAN(4000) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = 100000 },
	  .owed_fen = 100000, .authority = COMP_AUTHORITY_ADJUSTER },
	{ .name = "authority: 1,000 yuan and one fen needs a supervisor",
	  .waybill = { .fee_fen = YUAN(4000) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = 100001 },
	  .owed_fen = 100001, .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "authority: exactly 10,000 yuan is a supervisor's",
	  .waybill = { .fee_fen = YUAN(4000) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = 1000000 },
	  .owed_fen = 1000000, .authority = COMP_AUTHORITY_SUPERVISOR },
	{ .name = "authority: 10,000 yuan and one fen needs a manager",
	  .waybill = { .fee_fen = YUAN(4000) }, .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = 1000001 },
	  .owed_fen = 1000001, .authority = COMP_AUTHORITY_MANAGER },
	{ .name = "authority: nothing to pay is an adjuster's",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(50000) },
	  .assessment = { .actual_loss_fen = YUAN(50000), .fault = COMP_FAULT_SENDER },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_SENDER_FAULT } },

	/* ---- Insurer: clause A or B ---- */
	{ .name = "clause: used piece exactly 10,000 yuan is clause A (rule says more than)",
	  .waybill = { .insured = true, .declared_value_fen = 1000000, .used_goods = true,
		       .max_piece_value_fen = 1000000 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = 1000000 },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(200) },
	{ .name = "clause: used piece 10,000 yuan and one fen is clause B",
	  .waybill = { .insured = true, .declared_value_fen = 1000001, .used_goods = true,
		       .max_piece_value_fen = 1000001 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = 1000001 },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_B,
	  .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED } },
	{ .name = "clause: used, valuable, original factory packaging is clause A",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(20000), .used_goods = true,
		       .max_piece_value_fen = YUAN(20000), .packaging = COMP_PACKAGING_ORIGINAL_FACTORY },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = YUAN(20000) },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(200) },
	{ .name = "clause: used, valuable, packed by us is clause B",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(20000), .used_goods = true,
		       .max_piece_value_fen = YUAN(20000), .packaging = COMP_PACKAGING_CARRIER },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = YUAN(20000) },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_B,
	  .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED } },
	{ .name = "clause: new goods of any value are clause A",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(50000), .used_goods = false,
		       .max_piece_value_fen = YUAN(50000), .packaging = COMP_PACKAGING_BARE },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = YUAN(50000) },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(200) },
	{ .name = "clause: used, piece value not recorded, declared above threshold: clause B",
	  .waybill = { .insured = true, .declared_value_fen = 1000001, .used_goods = true, .pieces = 3 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = 1000001 },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_B,
	  .insurer_reasons = { COMP_REASON_PERIL_NOT_NAMED } },
	{ .name = "clause: used, piece value not recorded, declared at threshold: clause A",
	  .waybill = { .insured = true, .declared_value_fen = 1000000, .used_goods = true, .pieces = 3 },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(500), .real_value_fen = 1000000 },
	  .owed_fen = YUAN(200), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(200) },
	{ .name = "clause: uninsured used valuable goods: no insurer",
	  .waybill = { .fee_fen = YUAN(100), .used_goods = true, .max_piece_value_fen = YUAN(20000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(20000), .cause = COMP_CAUSE_FIRE },
	  .owed_fen = YUAN(400), .fee_refund_fen = YUAN(100), .clause = COMP_CLAUSE_NONE },

	/* ---- Insurer: clause B named perils ---- */
#define CLAUSE_B_PERIL_CASE(peril_name, peril, is_covered, reason)                               \
	{ .name = "clause B, cause " peril_name,                                                 \
	  .waybill = { .insured = true, .declared_value_fen = YUAN(12000), .used_goods = true,   \
		       .max_piece_value_fen = YUAN(12000) },                                     \
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },                                        \
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(12000),          \
			  .cause = peril },                                                      \
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_B, .covered = is_covered,                 \
	  .insurer_reasons = { reason }, .insurer_pays_fen = (is_covered) ? YUAN(700) : 0 }
	CLAUSE_B_PERIL_CASE("collision: covered", COMP_CAUSE_COLLISION, true, 0),
	CLAUSE_B_PERIL_CASE("fire: covered", COMP_CAUSE_FIRE, true, 0),
	CLAUSE_B_PERIL_CASE("theft: covered", COMP_CAUSE_THEFT, true, 0),
	CLAUSE_B_PERIL_CASE("water: covered", COMP_CAUSE_WATER, true, 0),
	CLAUSE_B_PERIL_CASE("handling: not named", COMP_CAUSE_HANDLING, false, COMP_REASON_PERIL_NOT_NAMED),
	CLAUSE_B_PERIL_CASE("unknown: not named", COMP_CAUSE_UNKNOWN, false, COMP_REASON_PERIL_NOT_NAMED),
#undef CLAUSE_B_PERIL_CASE
	{ .name = "clause A, cause unknown: covered (all risks)",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000),
			  .cause = COMP_CAUSE_UNKNOWN },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },

	/* ---- Insurer: exclusions, indemnity, subrogation ---- */
	{ .name = "insurer excludes an intentional act; customer still paid",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000),
			  .intentional_act = true },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A,
	  .insurer_reasons = { COMP_REASON_EXCLUDED_INTENTIONAL_ACT } },
	{ .name = "insurer deductible separate from ours: 500 yuan",
	  .tune_config = config_insurer_deductible_500_yuan,
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(500) },
	{ .name = "insurer without deductible pays back no more than we owe",
	  .tune_config = config_insurer_deductible_zero,
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "clean signature on an insured parcel: the insurer still covers",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000), .delivered = true,
		       .signer_is_consignee = true, .proof_of_delivery_available = true },
	  .claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000) },
	  .owed_fen = YUAN(700), .authority = COMP_AUTHORITY_SUPERVISOR, .reasons = { COMP_REASON_SIGNED_WITHOUT_REMARKS },
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(700) },
	{ .name = "subrogation against a third party (the other driver)",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000),
			  .cause = COMP_CAUSE_COLLISION, .third_party_liable = true },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_pays_fen = YUAN(700), .subrogation = true },
	{ .name = "no subrogation when the insurer pays nothing",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(200), .real_value_fen = YUAN(1000),
			  .cause = COMP_CAUSE_COLLISION, .third_party_liable = true },
	  .owed_fen = 0, .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = 0,
	  .subrogation = false },
	{ .name = "no subrogation without a third party",
	  .waybill = { .insured = true, .declared_value_fen = YUAN(1000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(1000), .real_value_fen = YUAN(1000),
			  .cause = COMP_CAUSE_THEFT },
	  .owed_fen = YUAN(700), .clause = COMP_CLAUSE_A, .covered = true,
	  .insurer_pays_fen = YUAN(700), .subrogation = false },

	/* ---- Who bears the loss ---- */
	{ .name = "network: responsible depot not established, accepting depot bears",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "" },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .network = &NET_NOT_ESTABLISHED },
	{ .name = "network: responsible depot same as accepting, no reimbursement",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "SZ01" },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .network = &NET_SAME_DEPOT },
	{ .name = "network: another depot at fault reimburses in full",
	  .waybill = { .fee_fen = YUAN(20) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "GZ03" },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .network = &NET_OTHER_DEPOT },
	{ .name = "network: sub-carrier without contract, the depot bears it",
	  .waybill = { .fee_fen = YUAN(200) }, .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "GZ03",
			  .sub_carrier_at_fault = true, .sub_carrier = "Lingnan Freight" },
	  .owed_fen = YUAN(700), .fee_refund_fen = YUAN(200), .network = &NET_SUB_CARRIER_NO_CONTRACT },
	{ .name = "network: insurer pays it all, the insurer recovers, not the depot",
	  .waybill = { .fee_fen = 0, .insured = true, .declared_value_fen = YUAN(2000) },
	  .claim = { .type = COMP_CLAIM_LOSS },
	  .assessment = { .actual_loss_fen = YUAN(2000), .real_value_fen = YUAN(2000),
			  .responsible_depot = "GZ03", .sub_carrier_at_fault = true,
			  .sub_carrier = "Lingnan Freight", .sub_carrier_has_contract = true },
	  .owed_fen = YUAN(1700), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = YUAN(1700),
	  .subrogation = true, .network = &NET_INSURER_PAYS_ALL },
	{ .name = "network: exempt with ex gratia, the paying depot keeps the gift",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500), .ex_gratia_fen = YUAN(50) },
	  .assessment = { .actual_loss_fen = YUAN(500), .fault = COMP_FAULT_RECEIVER,
			  .responsible_depot = "GZ03" },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_RECEIVER_FAULT },
	  .ex_gratia_fen = YUAN(50), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .network = &NET_EXEMPT_WITH_EX_GRATIA },
	{ .name = "network: ex gratia is not reimbursed by the responsible depot",
	  .waybill = { .fee_fen = YUAN(20) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500), .ex_gratia_fen = YUAN(40) },
	  .assessment = { .actual_loss_fen = YUAN(500), .responsible_depot = "GZ03" },
	  .owed_fen = YUAN(80), .fee_refund_fen = YUAN(20), .ex_gratia_fen = YUAN(40), .authority = COMP_AUTHORITY_SUPERVISOR,
	  .network = &NET_EX_GRATIA_NOT_REIMBURSED },

	/* ---- Huge values: exact, no overflow ---- */
	{ .name = "huge: insured at the maximum, ratio needs 128 bits",
	  .waybill = { .insured = true, .declared_value_fen = MAX_FEN - 1, .fee_fen = MAX_FEN },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = MAX_FEN },
	  .assessment = { .actual_loss_fen = MAX_FEN, .real_value_fen = MAX_FEN },
	  .owed_fen = INT64_C(1999999999969999), .fee_refund_fen = MAX_FEN, .authority = COMP_AUTHORITY_MANAGER,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = INT64_C(999999999969999) },
	{ .name = "huge: ratio rounding at the maximum",
	  .waybill = { .insured = true, .declared_value_fen = INT64_C(333333333333333) },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = MAX_FEN },
	  .assessment = { .actual_loss_fen = MAX_FEN - 1, .real_value_fen = MAX_FEN },
	  /* (10^15 - 1) x 333333333333333 / 10^15 = 333333333333332.67 -> ...333 */
	  .owed_fen = INT64_C(333333333303333), .authority = COMP_AUTHORITY_MANAGER,
	  .clause = COMP_CLAUSE_A, .covered = true, .insurer_pays_fen = INT64_C(333333333303333) },
	{ .name = "huge: fee x 1000 at the maximum fee fits",
	  .tune_config = config_multiple_1000,
	  .waybill = { .fee_fen = MAX_FEN },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = MAX_FEN, .ex_gratia_fen = MAX_FEN },
	  .assessment = { .actual_loss_fen = MAX_FEN, .real_value_fen = MAX_FEN,
			  .indirect_loss_fen = 0 },
	  .owed_fen = 2 * MAX_FEN, .fee_refund_fen = MAX_FEN, .ex_gratia_fen = 0, .authority = COMP_AUTHORITY_MANAGER },
	{ .name = "huge: delay discount on the maximum fee",
	  .waybill = { .fee_fen = MAX_FEN, .lateness_discount_bp = 3333 },
	  .claim = { .type = COMP_CLAIM_DELAY, .claimed_fen = MAX_FEN },
	  .owed_fen = INT64_C(333300000000000), .authority = COMP_AUTHORITY_MANAGER },
	{ .name = "huge: ex gratia at the maximum on an exempt claim",
	  .waybill = { .fee_fen = MAX_FEN },
	  .claim = { .type = COMP_CLAIM_LOSS, .claimed_fen = MAX_FEN, .ex_gratia_fen = MAX_FEN },
	  .assessment = { .actual_loss_fen = MAX_FEN, .fault = COMP_FAULT_SENDER },
	  .decision = COMP_DECISION_EXEMPT, .reasons = { COMP_REASON_SENDER_FAULT },
	  .ex_gratia_fen = MAX_FEN, .authority = COMP_AUTHORITY_MANAGER },
};

/* ---------------------------------------------------------------------- */
/* Running a row                                                           */

/* Neutral values for the fields a row leaves zero (see the file comment). */
static void fill_defaults(struct comp_waybill *w, struct comp_claim *c, struct comp_assessment *a)
{
	if (w->pieces == 0)
		w->pieces = 1;
	if (w->packaging == COMP_PACKAGING_UNSET)
		w->packaging = COMP_PACKAGING_SENDER_OWN;
	if (c->claimed_fen == 0)
		c->claimed_fen = MAX_FEN;
	if (a->cause == COMP_CAUSE_UNSET)
		a->cause = COMP_CAUSE_HANDLING;
	if (a->fault == COMP_FAULT_UNSET)
		a->fault = COMP_FAULT_OURS;
	if (a->accepting_depot == NULL)
		a->accepting_depot = "SZ01";
}

static size_t reason_list_length(const enum comp_reason *reasons)
{
	size_t n = 0;
	while (n < COMP_MAX_REASONS && reasons[n] != 0)
		n++;
	return n;
}

static void check_reasons(const char *side, const struct comp_reasons *got,
		const enum comp_reason *expected)
{
	size_t n = reason_list_length(expected);
	if (got->count != n)
		print_error("%s reasons: expected %zu, got %zu (first: %s)\n", side, n, got->count,
			got->count > 0 ? comp_reason_name(got->items[0]) : "none");
	assert_int_equal(got->count, n);
	for (size_t i = 0; i < n; i++) {
		if (got->items[i] != expected[i])
			print_error("%s reason %zu: expected %s, got %s\n", side, i,
				comp_reason_name(expected[i]), comp_reason_name(got->items[i]));
		assert_int_equal(got->items[i], expected[i]);
	}
}

static void check_steps(const struct comp_steps *got, const struct expect_step *expected)
{
	size_t n = 0;
	for (; expected[n].label != NULL; n++) {
		assert_true(n < got->count);
		const struct comp_step *step = &got->items[n];
		if (strcmp(step->label, expected[n].label) != 0 || step->kind != expected[n].kind)
			print_error("step %zu: expected \"%s\", got \"%s\"\n", n, expected[n].label, step->label);
		assert_string_equal(step->label, expected[n].label);
		assert_int_equal(step->kind, expected[n].kind);
		assert_int_equal(step->amount_fen, expected[n].amount_fen);
		assert_int_equal(step->numerator, expected[n].numerator);
		assert_int_equal(step->denominator, expected[n].denominator);
	}
	assert_int_equal(got->count, n);
}

static void check_network(const struct comp_network *got, const struct expect_network *expected)
{
	assert_string_equal(got->paying_depot, expected->paying_depot);
	assert_string_equal(got->reimbursing_depot, expected->reimbursing_depot);
	assert_int_equal(got->reimbursement_fen, expected->reimbursement_fen);
	assert_string_equal(got->bearing_depot, expected->bearing_depot);
	assert_string_equal(got->sub_carrier, expected->sub_carrier);
	assert_int_equal(got->sub_carrier_recovery_expected, expected->sub_carrier_recovery_expected);
	assert_int_equal(got->sub_carrier_recovery_fen, expected->sub_carrier_recovery_fen);
	assert_int_equal(got->bearing_depot_net_fen, expected->bearing_depot_net_fen);
}

static void check_step_list_well_formed(const struct comp_steps *steps)
{
	assert_true(steps->count < COMP_MAX_STEPS);
	for (size_t i = 0; i < steps->count; i++) {
		const struct comp_step *step = &steps->items[i];
		assert_non_null(step->label);
		assert_non_null(step->note);
		/* notes are shown to customers: no internal references */
		assert_null(strstr(step->note, "domain-rules"));
		assert_null(strstr(step->note, "DESIGN"));
		for (const char *q = strchr(step->note, 'Q'); q != NULL; q = strchr(q + 1, 'Q'))
			assert_false(q[1] >= '0' && q[1] <= '9');
		assert_non_null(comp_step_kind_name(step->kind));
		if (step->kind == COMP_STEP_RATIO)
			assert_true(step->denominator > 0 && step->numerator <= step->denominator);
		else
			assert_true(step->numerator == 0 && step->denominator == 0);
		if (step->kind == COMP_STEP_AMOUNT)
			assert_true(step->amount_fen >= 0);
		else
			assert_int_equal(step->amount_fen, 0);
	}
}

/* What must hold for every assessment, whatever the row. */
static void check_invariants(const struct comp_claim *claim, const struct comp_result *r)
{
	assert_int_equal(r->payable_fen, r->owed_fen + r->ex_gratia_fen);
	/* only the fee refund may take a payment past the claim */
	assert_true(r->fee_refund_fen >= 0 && r->fee_refund_fen <= r->owed_fen);
	assert_true(r->payable_fen - r->fee_refund_fen <= claim->claimed_fen);
	if (claim->type != COMP_CLAIM_LOSS && claim->type != COMP_CLAIM_DAMAGE_TOTAL
			&& claim->type != COMP_CLAIM_MISMATCH_DIFFERENT_ITEM)
		assert_int_equal(r->fee_refund_fen, 0);
	/* the engine no longer refuses: a clean signature weighs, it does not bar */
	assert_int_not_equal(r->decision, COMP_DECISION_REFUSED);
	assert_true(r->owed_fen >= 0 && r->ex_gratia_fen >= 0);
	if (r->decision != COMP_DECISION_LIABLE)
		assert_int_equal(r->owed_fen, 0);
	assert_true(r->insurer.pays_fen >= 0 && r->insurer.pays_fen <= r->owed_fen);
	if (!r->insurer.covered)
		assert_int_equal(r->insurer.pays_fen, 0);
	if (r->insurer.subrogation)
		assert_true(r->insurer.pays_fen > 0);
	assert_non_null(r->insurer.clause_note);
	assert_null(r->invalid_field);
	check_step_list_well_formed(&r->steps);
	check_step_list_well_formed(&r->insurer.steps);
	/* The customer side always ends with what is paid and who approves. */
	assert_true(r->steps.count >= 2);
	const struct comp_step *payable = &r->steps.items[r->steps.count - 2];
	assert_string_equal(payable->label, "payable to the customer");
	assert_int_equal(payable->amount_fen, r->payable_fen);
	assert_int_equal(r->network.paid_to_customer_fen, r->payable_fen);
	assert_int_equal(r->network.bearing_depot_net_fen + r->insurer.pays_fen
			+ r->network.sub_carrier_recovery_fen, r->owed_fen);
}

static void run_case(void **state)
{
	const struct assess_case *tc = *state;
	struct comp_config config;
	struct comp_waybill waybill = tc->waybill;
	struct comp_claim claim = tc->claim;
	struct comp_assessment assessment = tc->assessment;
	struct comp_result result;

	comp_config_default(&config);
	if (tc->tune_config != NULL)
		tc->tune_config(&config);
	fill_defaults(&waybill, &claim, &assessment);

	int rc = comp_assess(&config, &waybill, &claim, &assessment, &result);
	if (rc != 0)
		print_error("invalid field: %s\n", result.invalid_field);
	assert_int_equal(rc, 0);

	assert_string_equal(comp_decision_name(result.decision), comp_decision_name(tc->decision));
	check_reasons("customer", &result.reasons, tc->reasons);
	assert_int_equal(result.owed_fen, tc->owed_fen);
	assert_int_equal(result.fee_refund_fen, tc->fee_refund_fen);
	assert_int_equal(result.ex_gratia_fen, tc->ex_gratia_fen);
	assert_string_equal(comp_authority_name(result.authority), comp_authority_name(tc->authority));
	assert_string_equal(comp_clause_name(result.insurer.clause), comp_clause_name(tc->clause));
	assert_int_equal(result.insurer.covered, tc->covered);
	check_reasons("insurer", &result.insurer.reasons, tc->insurer_reasons);
	assert_int_equal(result.insurer.pays_fen, tc->insurer_pays_fen);
	assert_int_equal(result.insurer.subrogation, tc->subrogation);
	if (tc->network != NULL)
		check_network(&result.network, tc->network);
	if (tc->steps != NULL)
		check_steps(&result.steps, tc->steps);
	if (tc->insurer_steps != NULL)
		check_steps(&result.insurer.steps, tc->insurer_steps);
	check_invariants(&claim, &result);
}

/* ---------------------------------------------------------------------- */
/* Invalid input: every check of comp_assess(), one at a time              */

struct valid_inputs {
	struct comp_config config;
	struct comp_waybill waybill;
	struct comp_claim claim;
	struct comp_assessment assessment;
};

static void valid_inputs_init(struct valid_inputs *in)
{
	comp_config_default(&in->config);
	in->waybill = (struct comp_waybill){
		.fee_fen = YUAN(20), .declared_value_fen = YUAN(500), .insured = true, .pieces = 1,
		.packaging = COMP_PACKAGING_SENDER_OWN,
	};
	in->claim = (struct comp_claim){ .type = COMP_CLAIM_LOSS, .claimed_fen = YUAN(500) };
	in->assessment = (struct comp_assessment){
		.actual_loss_fen = YUAN(500), .real_value_fen = YUAN(500), .cause = COMP_CAUSE_THEFT,
		.fault = COMP_FAULT_OURS, .accepting_depot = "SZ01",
	};
}

static const char LONG_DEPOT[] = "D0123456789012345678901234567890";   /* 32 bytes */
static const char LONGEST_DEPOT[] = "D012345678901234567890123456789";  /* 31 bytes */

struct invalid_case {
	const char *name;
	void (*spoil)(struct valid_inputs *in);
	const char *field;
};

#define SPOIL(fn, stmt) static void fn(struct valid_inputs *in) { stmt; }
SPOIL(spoil_config_deductible, in->config.deductible_fen = -1)
SPOIL(spoil_config_insurer_deductible, in->config.insurer_deductible_fen = MAX_FEN + 1)
SPOIL(spoil_config_multiple_negative, in->config.uninsured_fee_multiple = -1)
SPOIL(spoil_config_multiple_too_big, in->config.uninsured_fee_multiple = COMP_MAX_FEE_MULTIPLE + 1)
SPOIL(spoil_contract_multiple_too_big, in->waybill.contract_fee_multiple_set = true;
	in->waybill.contract_fee_multiple = COMP_MAX_FEE_MULTIPLE + 1)
SPOIL(spoil_contract_multiple_negative, in->waybill.contract_fee_multiple_set = true;
	in->waybill.contract_fee_multiple = -1)
SPOIL(spoil_cap_set_aside_insured, in->assessment.cap_set_aside = true)
SPOIL(spoil_cap_set_aside_delay, in->waybill.insured = false; in->claim.type = COMP_CLAIM_DELAY;
	in->assessment.cap_set_aside = true)
SPOIL(spoil_config_threshold, in->config.clause_b_piece_value_fen = -5)
SPOIL(spoil_config_adjuster, in->config.adjuster_limit_fen = INT64_MAX)
SPOIL(spoil_config_supervisor_below_adjuster, in->config.supervisor_limit_fen = 99999)
SPOIL(spoil_config_supervisor_negative, in->config.supervisor_limit_fen = -1)
SPOIL(spoil_config_ex_gratia_level, in->config.ex_gratia_min_authority = (enum comp_authority)7)
SPOIL(spoil_fee_negative, in->waybill.fee_fen = -1)
SPOIL(spoil_fee_int64_max, in->waybill.fee_fen = INT64_MAX)
SPOIL(spoil_fee_above_max, in->waybill.fee_fen = MAX_FEN + 1)
SPOIL(spoil_declared_negative, in->waybill.declared_value_fen = -1)
SPOIL(spoil_insured_without_declared, in->waybill.declared_value_fen = 0)
SPOIL(spoil_pieces_zero, in->waybill.pieces = 0)
SPOIL(spoil_max_piece_negative, in->waybill.max_piece_value_fen = -1)
SPOIL(spoil_packaging_unset, in->waybill.packaging = COMP_PACKAGING_UNSET)
SPOIL(spoil_packaging_unknown, in->waybill.packaging = (enum comp_packaging)42)
SPOIL(spoil_discount_negative, in->waybill.lateness_discount_bp = -1)
SPOIL(spoil_discount_above_whole, in->waybill.lateness_discount_bp = 10001)
SPOIL(spoil_claim_type_unset, in->claim.type = COMP_CLAIM_UNSET)
SPOIL(spoil_claim_type_unknown, in->claim.type = (enum comp_claim_type)-3)
SPOIL(spoil_claimed_zero, in->claim.claimed_fen = 0)
SPOIL(spoil_claimed_above_max, in->claim.claimed_fen = MAX_FEN + 1)
SPOIL(spoil_ex_gratia_negative, in->claim.ex_gratia_fen = -100)
SPOIL(spoil_actual_loss_negative, in->assessment.actual_loss_fen = -1)
SPOIL(spoil_actual_loss_above_real, in->assessment.actual_loss_fen = YUAN(500) + 1)
SPOIL(spoil_real_value_negative, in->assessment.real_value_fen = INT64_MIN)
SPOIL(spoil_cause_unset, in->assessment.cause = COMP_CAUSE_UNSET)
SPOIL(spoil_fault_unset, in->assessment.fault = COMP_FAULT_UNSET)
SPOIL(spoil_indirect_negative, in->assessment.indirect_loss_fen = -1)
SPOIL(spoil_indirect_above_claim, in->assessment.indirect_loss_fen = YUAN(500) + 1)
SPOIL(spoil_accepting_depot_null, in->assessment.accepting_depot = NULL)
SPOIL(spoil_accepting_depot_empty, in->assessment.accepting_depot = "")
SPOIL(spoil_accepting_depot_long, in->assessment.accepting_depot = LONG_DEPOT)
SPOIL(spoil_responsible_depot_long, in->assessment.responsible_depot = LONG_DEPOT)
SPOIL(spoil_sub_carrier_not_ours,
	in->assessment.sub_carrier_at_fault = true; in->assessment.sub_carrier = "X";
	in->assessment.fault = COMP_FAULT_NONE)
SPOIL(spoil_sub_carrier_unnamed,
	in->assessment.sub_carrier_at_fault = true; in->assessment.sub_carrier = NULL)
SPOIL(spoil_sub_carrier_empty_name,
	in->assessment.sub_carrier_at_fault = true; in->assessment.sub_carrier = "")
static void spoil_sub_carrier_long_name(struct valid_inputs *in)
{
	static char name[COMP_SUB_CARRIER_NAME_MAX_BYTES + 2];
	memset(name, 'n', sizeof name - 1);
	in->assessment.sub_carrier_at_fault = true;
	in->assessment.sub_carrier = name;
}
#undef SPOIL

static const struct invalid_case INVALID_CASES[] = {
	{ "config deductible negative", spoil_config_deductible, "config.deductible_fen" },
	{ "config insurer deductible above max", spoil_config_insurer_deductible, "config.insurer_deductible_fen" },
	{ "config multiple negative", spoil_config_multiple_negative, "config.uninsured_fee_multiple" },
	{ "config multiple too big", spoil_config_multiple_too_big, "config.uninsured_fee_multiple" },
	{ "contract multiple too big", spoil_contract_multiple_too_big, "waybill.contract_fee_multiple" },
	{ "contract multiple negative", spoil_contract_multiple_negative, "waybill.contract_fee_multiple" },
	{ "cap set aside on an insured waybill (no contract cap)", spoil_cap_set_aside_insured,
	  "assessment.cap_set_aside" },
	{ "cap set aside on a delay claim (no contract cap)", spoil_cap_set_aside_delay, "assessment.cap_set_aside" },
	{ "config clause B threshold negative", spoil_config_threshold, "config.clause_b_piece_value_fen" },
	{ "config adjuster limit INT64_MAX", spoil_config_adjuster, "config.adjuster_limit_fen" },
	{ "config supervisor below adjuster", spoil_config_supervisor_below_adjuster, "config.supervisor_limit_fen" },
	{ "config supervisor negative", spoil_config_supervisor_negative, "config.supervisor_limit_fen" },
	{ "config ex gratia level unknown", spoil_config_ex_gratia_level, "config.ex_gratia_min_authority" },
	{ "fee negative", spoil_fee_negative, "waybill.fee_fen" },
	{ "fee INT64_MAX", spoil_fee_int64_max, "waybill.fee_fen" },
	{ "fee above max", spoil_fee_above_max, "waybill.fee_fen" },
	{ "declared negative", spoil_declared_negative, "waybill.declared_value_fen" },
	{ "insured without declared value", spoil_insured_without_declared, "waybill.declared_value_fen" },
	{ "pieces zero", spoil_pieces_zero, "waybill.pieces" },
	{ "max piece value negative", spoil_max_piece_negative, "waybill.max_piece_value_fen" },
	{ "packaging unset", spoil_packaging_unset, "waybill.packaging" },
	{ "packaging unknown", spoil_packaging_unknown, "waybill.packaging" },
	{ "lateness discount negative", spoil_discount_negative, "waybill.lateness_discount_bp" },
	{ "lateness discount above 100%", spoil_discount_above_whole, "waybill.lateness_discount_bp" },
	{ "claim type unset", spoil_claim_type_unset, "claim.type" },
	{ "claim type unknown", spoil_claim_type_unknown, "claim.type" },
	{ "claimed zero", spoil_claimed_zero, "claim.claimed_fen" },
	{ "claimed above max", spoil_claimed_above_max, "claim.claimed_fen" },
	{ "ex gratia negative", spoil_ex_gratia_negative, "claim.ex_gratia_fen" },
	{ "actual loss negative", spoil_actual_loss_negative, "assessment.actual_loss_fen" },
	{ "actual loss above real value", spoil_actual_loss_above_real, "assessment.actual_loss_fen" },
	{ "real value INT64_MIN", spoil_real_value_negative, "assessment.real_value_fen" },
	{ "cause unset", spoil_cause_unset, "assessment.cause" },
	{ "fault unset", spoil_fault_unset, "assessment.fault" },
	{ "indirect loss negative", spoil_indirect_negative, "assessment.indirect_loss_fen" },
	{ "indirect loss above the claim", spoil_indirect_above_claim, "assessment.indirect_loss_fen" },
	{ "accepting depot NULL", spoil_accepting_depot_null, "assessment.accepting_depot" },
	{ "accepting depot empty", spoil_accepting_depot_empty, "assessment.accepting_depot" },
	{ "accepting depot 32 bytes", spoil_accepting_depot_long, "assessment.accepting_depot" },
	{ "responsible depot 32 bytes", spoil_responsible_depot_long, "assessment.responsible_depot" },
	{ "sub-carrier at fault, fault not ours", spoil_sub_carrier_not_ours, "assessment.sub_carrier_at_fault" },
	{ "sub-carrier at fault, no name", spoil_sub_carrier_unnamed, "assessment.sub_carrier" },
	{ "sub-carrier at fault, empty name", spoil_sub_carrier_empty_name, "assessment.sub_carrier" },
	{ "sub-carrier name 128 bytes", spoil_sub_carrier_long_name, "assessment.sub_carrier" },
};

static void run_invalid_case(void **state)
{
	const struct invalid_case *tc = *state;
	struct valid_inputs in;
	struct comp_result result;

	valid_inputs_init(&in);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	tc->spoil(&in);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), -EINVAL);
	assert_non_null(result.invalid_field);
	assert_string_equal(result.invalid_field, tc->field);
	assert_int_equal(result.owed_fen, 0);
	assert_int_equal(result.payable_fen, 0);
	assert_int_equal(result.steps.count, 0);
}

/* ---------------------------------------------------------------------- */
/* Single tests                                                            */

static void test_config_defaults(void **state)
{
	(void)state;
	struct comp_config config;
	const char *field = "not touched";

	memset(&config, 0xff, sizeof config);
	comp_config_default(&config);
	assert_int_equal(config.deductible_fen, 30000);
	assert_int_equal(config.insurer_deductible_fen, 30000);
	assert_int_equal(config.uninsured_fee_multiple, 3);
	assert_int_equal(config.clause_b_piece_value_fen, 1000000);
	assert_int_equal(config.adjuster_limit_fen, 100000);
	assert_int_equal(config.supervisor_limit_fen, 1000000);
	assert_int_equal(config.ex_gratia_min_authority, COMP_AUTHORITY_SUPERVISOR);
	assert_int_equal(comp_config_validate(&config, &field), 0);
	assert_null(field);
	assert_int_equal(comp_config_validate(&config, NULL), 0);
}

static void test_config_validate_edges(void **state)
{
	(void)state;
	struct comp_config config;
	const char *field = NULL;

	assert_int_equal(comp_config_validate(NULL, &field), -EINVAL);
	assert_string_equal(field, "config");

	/* Zero everywhere is a valid (if generous) configuration. */
	memset(&config, 0, sizeof config);
	assert_int_equal(comp_config_validate(&config, &field), 0);

	/* Limits at the maximum, supervisor equal to adjuster. */
	comp_config_default(&config);
	config.adjuster_limit_fen = MAX_FEN;
	config.supervisor_limit_fen = MAX_FEN;
	config.uninsured_fee_multiple = COMP_MAX_FEE_MULTIPLE;
	assert_int_equal(comp_config_validate(&config, &field), 0);

	/* Several bad fields: the first one is named. */
	config.deductible_fen = -1;
	config.supervisor_limit_fen = 0;
	assert_int_equal(comp_config_validate(&config, &field), -EINVAL);
	assert_string_equal(field, "config.deductible_fen");
	assert_int_equal(comp_config_validate(&config, NULL), -EINVAL);
}

static void test_null_arguments(void **state)
{
	(void)state;
	struct valid_inputs in;
	struct comp_result result;

	valid_inputs_init(&in);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, NULL), -EINVAL);
	assert_int_equal(comp_assess(NULL, &in.waybill, &in.claim, &in.assessment, &result), -EINVAL);
	assert_string_equal(result.invalid_field, "NULL argument");
	assert_int_equal(comp_assess(&in.config, NULL, &in.claim, &in.assessment, &result), -EINVAL);
	assert_int_equal(comp_assess(&in.config, &in.waybill, NULL, &in.assessment, &result), -EINVAL);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, NULL, &result), -EINVAL);
}

static void test_depot_and_name_length_limits(void **state)
{
	(void)state;
	struct valid_inputs in;
	struct comp_result result;
	char name[COMP_SUB_CARRIER_NAME_MAX_BYTES + 1];

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	valid_inputs_init(&in);
	in.assessment.accepting_depot = LONGEST_DEPOT;
	in.assessment.responsible_depot = LONGEST_DEPOT;
	in.assessment.sub_carrier_at_fault = true;
	in.assessment.sub_carrier = name;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.network.paying_depot, LONGEST_DEPOT);
	assert_string_equal(result.network.bearing_depot, LONGEST_DEPOT);
	assert_string_equal(result.network.reimbursing_depot, "");
	assert_string_equal(result.network.sub_carrier, name);
	assert_false(result.network.sub_carrier_recovery_expected);
}

/* The engine reads its inputs only, and gives the same answer every time. */
static void test_pure_and_deterministic(void **state)
{
	(void)state;
	struct valid_inputs in, copy;
	struct comp_result first, second;

	valid_inputs_init(&in);
	in.assessment.responsible_depot = "GZ03";
	in.assessment.sub_carrier_at_fault = true;
	in.assessment.sub_carrier = "Lingnan Freight";
	in.assessment.sub_carrier_has_contract = true;
	in.claim.ex_gratia_fen = YUAN(10);
	copy = in;
	memset(&first, 0xab, sizeof first);
	memset(&second, 0x5c, sizeof second);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &first), 0);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &second), 0);
	assert_memory_equal(&in, &copy, sizeof in);
	assert_memory_equal(&first, &second, sizeof first);

	/* Uninsured: a step's note points at the result's own cap_note, so the
	 * same bytes come back when assessed into the same place. */
	static struct comp_result saved;
	in.waybill.insured = false;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &first), 0);
	saved = first;
	memset(&first, 0x33, sizeof first);
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &first), 0);
	assert_memory_equal(&first, &saved, sizeof first);
	assert_string_equal(first.cap_note, "contract cap (our carriage terms): 3 x the fee");
}

/* The cap step names the contract term, never the law. */
static void test_contract_cap_note(void **state)
{
	(void)state;
	struct valid_inputs in;
	struct comp_result result;

	valid_inputs_init(&in);
	in.waybill.insured = false;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[3].label, "limit: contract cap (fee x multiple)");
	assert_string_equal(result.steps.items[3].note, "contract cap (our carriage terms): 3 x the fee");
	in.waybill.contract_fee_multiple_set = true;
	in.waybill.contract_fee_multiple = 7;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[3].note, "contract cap (the customer's contract): 7 x the fee");
	assert_int_equal(result.steps.items[3].amount_fen, YUAN(140));
	/* insured: no contract cap, no note */
	in.waybill.insured = true;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.cap_note, "");
}

/* A lateness discount is named for where it came from: the customer's
 * contract, or set for this one claim (a supervisor's override). */
static void test_lateness_discount_named_by_source(void **state)
{
	(void)state;
	struct valid_inputs in;
	struct comp_result result;

	valid_inputs_init(&in);
	in.waybill.insured = false;
	in.waybill.fee_fen = 2000;
	in.claim.type = COMP_CLAIM_DELAY;
	in.claim.claimed_fen = 2000;
	in.waybill.lateness_discount_bp = 1500;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[1].label, "contract lateness discount");
	assert_string_equal(result.steps.items[1].note, "the customer's contract sets it instead of the waiver");
	assert_int_equal(result.owed_fen, 300);
	in.waybill.lateness_discount_for_claim = true;
	in.waybill.lateness_discount_bp = 2500;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[1].label, "lateness discount set for this claim");
	assert_string_equal(result.steps.items[1].note,
			    "set for this claim instead of the waiver, in place of the contract's");
	assert_int_equal(result.owed_fen, 500);
	/* set to 0 for the claim: the contract's discount is set aside, the whole fee waived */
	in.waybill.lateness_discount_bp = 0;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[1].label, "fee waived");
	assert_string_equal(result.steps.items[1].note,
			    "the whole service fee: the contract's lateness discount is set aside for this claim");
	assert_int_equal(result.owed_fen, 2000);
	in.waybill.lateness_discount_for_claim = false;
	assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
	assert_string_equal(result.steps.items[1].note, "the whole service fee");
}

/* The longest path the engine can take must fit the fixed step arrays. */
static void test_longest_assessment_fits(void **state)
{
	(void)state;
	struct comp_config config;
	struct comp_result result;
	comp_config_default(&config);
	struct comp_waybill waybill = {
		.fee_fen = YUAN(20), .declared_value_fen = YUAN(100), .insured = true, .pieces = 1,
		.used_goods = true, .max_piece_value_fen = YUAN(20000),
		.packaging = COMP_PACKAGING_SENDER_OWN, .over_limit = true,
		.goods_described_falsely = true, .prohibited_goods = true, .delivered = true,
		.signer_is_consignee = true, .proof_of_delivery_available = true,
	};
	struct comp_claim claim = { .type = COMP_CLAIM_DAMAGE_PARTIAL, .claimed_fen = YUAN(300),
		.ex_gratia_fen = YUAN(500) };
	struct comp_assessment assessment = {
		.actual_loss_fen = YUAN(200), .real_value_fen = YUAN(200),
		.cause = COMP_CAUSE_IMPROPER_PACKAGING, .fault = COMP_FAULT_SENDER,
		.staff_advised_packaging = true, .intentional_act = true, .third_party_liable = true,
		.indirect_loss_fen = YUAN(50), .accepting_depot = "SZ01", .responsible_depot = "GZ03",
	};

	assert_int_equal(comp_assess(&config, &waybill, &claim, &assessment, &result), 0);
	assert_true(result.steps.count < COMP_MAX_STEPS);
	assert_true(result.insurer.steps.count < COMP_MAX_STEPS);
	assert_true(result.reasons.count < COMP_MAX_REASONS);
	assert_int_equal(result.reasons.count, 8);
	assert_int_equal(result.insurer.reasons.count, 5);
	check_invariants(&claim, &result);
}

/* Each goods claim type says on its first figure which rule it follows. */
static void test_goods_basis_notes(void **state)
{
	(void)state;
	static const struct {
		enum comp_claim_type type;
		const char *note;
	} NOTES[] = {
		{ COMP_CLAIM_LOSS, "loss: the actual value of the goods" },
		{ COMP_CLAIM_DAMAGE_TOTAL, "total damage: paid as loss" },
		{ COMP_CLAIM_DAMAGE_PARTIAL, "partial damage: the share of value lost (repair cost or depreciation)" },
		{ COMP_CLAIM_MISMATCH_DIFFERENT_ITEM, "a different item: paid as total damage" },
		{ COMP_CLAIM_MISMATCH_SHORT, "short quantity or weight: paid as partial damage" },
	};
	struct valid_inputs in;
	struct comp_result result;

	for (size_t i = 0; i < ARRAY_LEN(NOTES); i++) {
		valid_inputs_init(&in);
		in.claim.type = NOTES[i].type;
		assert_int_equal(comp_assess(&in.config, &in.waybill, &in.claim, &in.assessment, &result), 0);
		assert_string_equal(result.steps.items[0].label, "actual loss assessed");
		assert_string_equal(result.steps.items[0].note, NOTES[i].note);
	}
}

static void test_authority_required(void **state)
{
	(void)state;
	struct comp_config config;
	comp_config_default(&config);

	assert_int_equal(comp_authority_required(&config, 0, false), COMP_AUTHORITY_ADJUSTER);
	assert_int_equal(comp_authority_required(&config, 100000, false), COMP_AUTHORITY_ADJUSTER);
	assert_int_equal(comp_authority_required(&config, 100001, false), COMP_AUTHORITY_SUPERVISOR);
	assert_int_equal(comp_authority_required(&config, 1000000, false), COMP_AUTHORITY_SUPERVISOR);
	assert_int_equal(comp_authority_required(&config, 1000001, false), COMP_AUTHORITY_MANAGER);
	assert_int_equal(comp_authority_required(&config, 0, true), COMP_AUTHORITY_SUPERVISOR);
	assert_int_equal(comp_authority_required(&config, 100000, true), COMP_AUTHORITY_SUPERVISOR);
	assert_int_equal(comp_authority_required(&config, 1000001, true), COMP_AUTHORITY_MANAGER);
	config.ex_gratia_min_authority = COMP_AUTHORITY_ADJUSTER;
	assert_int_equal(comp_authority_required(&config, 1, true), COMP_AUTHORITY_ADJUSTER);
}

/* name(value) -> word -> parse(word) == value, for every value of every
 * enumeration; unknown words and values are refused. */
#define CHECK_ENUM_ROUND_TRIP(prefix, type, first, last)                                   \
	do {                                                                               \
		for (int v = (first); v <= (last); v++) {                                  \
			const char *word = prefix##_name((type)v);                          \
			type parsed = (type)-1;                                              \
			assert_non_null(word);                                               \
			assert_int_equal(prefix##_parse(word, &parsed), 0);                  \
			assert_int_equal(parsed, v);                                         \
		}                                                                          \
		type untouched = (type)(first);                                             \
		assert_null(prefix##_name((type)((last) + 1)));                             \
		assert_null(prefix##_name((type)-1));                                       \
		assert_int_equal(prefix##_parse("no_such_word", &untouched), -EINVAL);      \
		assert_int_equal(prefix##_parse("", &untouched), -EINVAL);                  \
		assert_int_equal(prefix##_parse(NULL, &untouched), -EINVAL);                \
		assert_int_equal(untouched, (first));                                       \
	} while (0)

static void test_enum_words_round_trip(void **state)
{
	(void)state;
	CHECK_ENUM_ROUND_TRIP(comp_packaging, enum comp_packaging,
		COMP_PACKAGING_ORIGINAL_FACTORY, COMP_PACKAGING_BARE);
	CHECK_ENUM_ROUND_TRIP(comp_claim_type, enum comp_claim_type,
		COMP_CLAIM_DELAY, COMP_CLAIM_MISMATCH_SHORT);
	CHECK_ENUM_ROUND_TRIP(comp_cause, enum comp_cause, COMP_CAUSE_COLLISION, COMP_CAUSE_UNKNOWN);
	CHECK_ENUM_ROUND_TRIP(comp_fault, enum comp_fault, COMP_FAULT_OURS, COMP_FAULT_NONE);
	CHECK_ENUM_ROUND_TRIP(comp_decision, enum comp_decision,
		COMP_DECISION_LIABLE, COMP_DECISION_REFUSED);
	CHECK_ENUM_ROUND_TRIP(comp_clause, enum comp_clause, COMP_CLAUSE_NONE, COMP_CLAUSE_B);
	CHECK_ENUM_ROUND_TRIP(comp_authority, enum comp_authority,
		COMP_AUTHORITY_ADJUSTER, COMP_AUTHORITY_MANAGER);
	CHECK_ENUM_ROUND_TRIP(comp_reason, enum comp_reason,
		COMP_REASON_FORCE_MAJEURE, COMP_REASON_EXCLUDED_INDIRECT_LOSS);
	CHECK_ENUM_ROUND_TRIP(comp_step_kind, enum comp_step_kind, COMP_STEP_FINDING, COMP_STEP_RATIO);
}

/* The wire words are a contract with clients: spelled out here once. */
static void test_enum_wire_words(void **state)
{
	(void)state;
	assert_string_equal(comp_packaging_name(COMP_PACKAGING_ORIGINAL_FACTORY), "original_factory");
	assert_string_equal(comp_packaging_name(COMP_PACKAGING_CARRIER), "carrier");
	assert_string_equal(comp_packaging_name(COMP_PACKAGING_SENDER_OWN), "sender_own");
	assert_string_equal(comp_packaging_name(COMP_PACKAGING_BARE), "bare");
	assert_null(comp_packaging_name(COMP_PACKAGING_UNSET));
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_DELAY), "delay");
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_LOSS), "loss");
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_DAMAGE_TOTAL), "damage_total");
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_DAMAGE_PARTIAL), "damage_partial");
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_MISMATCH_DIFFERENT_ITEM), "mismatch_different_item");
	assert_string_equal(comp_claim_type_name(COMP_CLAIM_MISMATCH_SHORT), "mismatch_short");
	assert_null(comp_claim_type_name(COMP_CLAIM_UNSET));
	assert_string_equal(comp_cause_name(COMP_CAUSE_COLLISION), "collision");
	assert_string_equal(comp_cause_name(COMP_CAUSE_FIRE), "fire");
	assert_string_equal(comp_cause_name(COMP_CAUSE_THEFT), "theft");
	assert_string_equal(comp_cause_name(COMP_CAUSE_WATER), "water");
	assert_string_equal(comp_cause_name(COMP_CAUSE_HANDLING), "handling");
	assert_string_equal(comp_cause_name(COMP_CAUSE_IMPROPER_PACKAGING), "improper_packaging");
	assert_string_equal(comp_cause_name(COMP_CAUSE_NATURE_OF_GOODS), "nature_of_goods");
	assert_string_equal(comp_cause_name(COMP_CAUSE_FORCE_MAJEURE), "force_majeure");
	assert_string_equal(comp_cause_name(COMP_CAUSE_UNKNOWN), "unknown");
	assert_null(comp_cause_name(COMP_CAUSE_UNSET));
	assert_string_equal(comp_fault_name(COMP_FAULT_OURS), "ours");
	assert_string_equal(comp_fault_name(COMP_FAULT_SENDER), "sender");
	assert_string_equal(comp_fault_name(COMP_FAULT_RECEIVER), "receiver");
	assert_string_equal(comp_fault_name(COMP_FAULT_NONE), "none");
	assert_null(comp_fault_name(COMP_FAULT_UNSET));
	assert_string_equal(comp_decision_name(COMP_DECISION_LIABLE), "liable");
	assert_string_equal(comp_decision_name(COMP_DECISION_EXEMPT), "exempt");
	assert_string_equal(comp_decision_name(COMP_DECISION_REFUSED), "refused");
	assert_string_equal(comp_clause_name(COMP_CLAUSE_NONE), "none");
	assert_string_equal(comp_clause_name(COMP_CLAUSE_A), "a");
	assert_string_equal(comp_clause_name(COMP_CLAUSE_B), "b");
	assert_string_equal(comp_authority_name(COMP_AUTHORITY_ADJUSTER), "adjuster");
	assert_string_equal(comp_authority_name(COMP_AUTHORITY_SUPERVISOR), "supervisor");
	assert_string_equal(comp_authority_name(COMP_AUTHORITY_MANAGER), "manager");
	assert_string_equal(comp_step_kind_name(COMP_STEP_FINDING), "finding");
	assert_string_equal(comp_step_kind_name(COMP_STEP_AMOUNT), "amount");
	assert_string_equal(comp_step_kind_name(COMP_STEP_RATIO), "ratio");
	assert_string_equal(comp_reason_name(COMP_REASON_SIGNED_WITHOUT_REMARKS), "signed_without_remarks");
	assert_string_equal(comp_reason_name(COMP_REASON_PERIL_NOT_NAMED), "peril_not_named");
	assert_null(comp_reason_name((enum comp_reason)0));
}

/* The wire word is the only spelling (as in complaint_rules). */
static void test_parse_is_exact(void **state)
{
	(void)state;
	enum comp_cause cause = COMP_CAUSE_FIRE;
	enum comp_packaging packaging = COMP_PACKAGING_BARE;
	enum comp_reason reason = COMP_REASON_FORCE_MAJEURE;

	assert_int_equal(comp_cause_parse("Force_Majeure", &cause), -EINVAL);
	assert_int_equal(comp_packaging_parse("ORIGINAL_FACTORY", &packaging), -EINVAL);
	assert_int_equal(comp_packaging_parse("original-factory", &packaging), -EINVAL);
	assert_int_equal(comp_reason_parse("Indirect_Loss", &reason), -EINVAL);
	assert_int_equal(comp_cause_parse("fir", &cause), -EINVAL);
	assert_int_equal(comp_cause_parse("fires", &cause), -EINVAL);
	assert_int_equal(comp_cause_parse("fire ", &cause), -EINVAL);
	assert_int_equal(comp_cause_parse(" fire", &cause), -EINVAL);
	assert_int_equal(cause, COMP_CAUSE_FIRE);
	assert_int_equal(packaging, COMP_PACKAGING_BARE);
	assert_int_equal(reason, COMP_REASON_FORCE_MAJEURE);
	assert_int_equal(comp_cause_parse("force_majeure", &cause), 0);
	assert_int_equal(cause, COMP_CAUSE_FORCE_MAJEURE);
}

static void test_reason_texts(void **state)
{
	(void)state;
	for (int r = COMP_REASON_FORCE_MAJEURE; r <= COMP_REASON_EXCLUDED_INDIRECT_LOSS; r++) {
		const char *text = comp_reason_text((enum comp_reason)r);
		assert_non_null(text);
		assert_true(strlen(text) > 10);
		for (int other = r + 1; other <= COMP_REASON_EXCLUDED_INDIRECT_LOSS; other++) {
			assert_string_not_equal(comp_reason_name((enum comp_reason)r),
				comp_reason_name((enum comp_reason)other));
			assert_string_not_equal(text, comp_reason_text((enum comp_reason)other));
		}
	}
	assert_null(comp_reason_text((enum comp_reason)0));
	assert_null(comp_reason_text((enum comp_reason)(COMP_REASON_EXCLUDED_INDIRECT_LOSS + 1)));
	assert_true(COMP_REASON_EXCLUDED_INDIRECT_LOSS < COMP_MAX_REASONS);
}

/* ---------------------------------------------------------------------- */

static struct CMUnitTest table_tests[ARRAY_LEN(CASES)];
static struct CMUnitTest invalid_tests[ARRAY_LEN(INVALID_CASES)];

int main(void)
{
	static const struct CMUnitTest single_tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_validate_edges),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_depot_and_name_length_limits),
		cmocka_unit_test(test_pure_and_deterministic),
		cmocka_unit_test(test_longest_assessment_fits),
		cmocka_unit_test(test_contract_cap_note),
		cmocka_unit_test(test_lateness_discount_named_by_source),
		cmocka_unit_test(test_goods_basis_notes),
		cmocka_unit_test(test_authority_required),
		cmocka_unit_test(test_enum_words_round_trip),
		cmocka_unit_test(test_enum_wire_words),
		cmocka_unit_test(test_parse_is_exact),
		cmocka_unit_test(test_reason_texts),
	};
	int failed = 0;

	for (size_t i = 0; i < ARRAY_LEN(CASES); i++)
		table_tests[i] = (struct CMUnitTest){
			.name = CASES[i].name, .test_func = run_case, .initial_state = (void *)&CASES[i] };
	for (size_t i = 0; i < ARRAY_LEN(INVALID_CASES); i++)
		invalid_tests[i] = (struct CMUnitTest){ .name = INVALID_CASES[i].name,
			.test_func = run_invalid_case, .initial_state = (void *)&INVALID_CASES[i] };

	failed += cmocka_run_group_tests_name("compensation: rules", table_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("compensation: invalid input", invalid_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("compensation: api", single_tests, NULL, NULL);
	return failed == 0 ? 0 : 1;
}
