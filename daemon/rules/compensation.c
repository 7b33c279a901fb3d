/* Claims compensation engine: the rules of docs/compensation.md as pure
 * functions. The contract is compensation.h; the worked examples, the
 * sources and the choices made where they are silent are in
 * docs/compensation.md. Notes in steps are shown to customers: they say why
 * in plain words and never carry an internal reference. */
#include "compensation.h"
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 128-bit intermediates: loss x declared can reach 10^30. */
__extension__ typedef __int128 wide_int;

/* ---------------------------------------------------------------------- */
/* Wire words                                                              */

static const char *const PACKAGING_NAMES[] = {
	[COMP_PACKAGING_ORIGINAL_FACTORY] = "original_factory",
	[COMP_PACKAGING_CARRIER] = "carrier",
	[COMP_PACKAGING_SENDER_OWN] = "sender_own",
	[COMP_PACKAGING_BARE] = "bare",
};

static const char *const CLAIM_TYPE_NAMES[] = {
	[COMP_CLAIM_DELAY] = "delay",
	[COMP_CLAIM_LOSS] = "loss",
	[COMP_CLAIM_DAMAGE_TOTAL] = "damage_total",
	[COMP_CLAIM_DAMAGE_PARTIAL] = "damage_partial",
	[COMP_CLAIM_MISMATCH_DIFFERENT_ITEM] = "mismatch_different_item",
	[COMP_CLAIM_MISMATCH_SHORT] = "mismatch_short",
};

static const char *const CAUSE_NAMES[] = {
	[COMP_CAUSE_COLLISION] = "collision",
	[COMP_CAUSE_FIRE] = "fire",
	[COMP_CAUSE_THEFT] = "theft",
	[COMP_CAUSE_WATER] = "water",
	[COMP_CAUSE_HANDLING] = "handling",
	[COMP_CAUSE_IMPROPER_PACKAGING] = "improper_packaging",
	[COMP_CAUSE_NATURE_OF_GOODS] = "nature_of_goods",
	[COMP_CAUSE_FORCE_MAJEURE] = "force_majeure",
	[COMP_CAUSE_UNKNOWN] = "unknown",
};

static const char *const FAULT_NAMES[] = {
	[COMP_FAULT_OURS] = "ours",
	[COMP_FAULT_SENDER] = "sender",
	[COMP_FAULT_RECEIVER] = "receiver",
	[COMP_FAULT_NONE] = "none",
};

static const char *const DECISION_NAMES[] = {
	[COMP_DECISION_LIABLE] = "liable",
	[COMP_DECISION_EXEMPT] = "exempt",
	[COMP_DECISION_REFUSED] = "refused",
};

static const char *const CLAUSE_NAMES[] = {
	[COMP_CLAUSE_NONE] = "none",
	[COMP_CLAUSE_A] = "a",
	[COMP_CLAUSE_B] = "b",
};

static const char *const AUTHORITY_NAMES[] = {
	[COMP_AUTHORITY_ADJUSTER] = "adjuster",
	[COMP_AUTHORITY_SUPERVISOR] = "supervisor",
	[COMP_AUTHORITY_MANAGER] = "manager",
};

static const char *const STEP_KIND_NAMES[] = {
	[COMP_STEP_FINDING] = "finding",
	[COMP_STEP_AMOUNT] = "amount",
	[COMP_STEP_RATIO] = "ratio",
};

/* What a reason does to the outcome; the decision is derived from these. */
enum reason_effect {
	EFFECT_EXEMPTS = 1,
	EFFECT_LIMITS,
	EFFECT_EXCLUDES,
	EFFECT_AGAINST, /* weighs against the claim: a supervisor decides */
};

struct reason_info {
	const char *name;
	const char *text;
	enum reason_effect effect;
};

static const struct reason_info REASONS[] = {
	[COMP_REASON_FORCE_MAJEURE] = { "force_majeure",
		"exempt: force majeure", EFFECT_EXEMPTS },
	[COMP_REASON_NATURE_OF_GOODS] = { "nature_of_goods",
		"exempt: nature or natural wastage of the goods", EFFECT_EXEMPTS },
	[COMP_REASON_SENDER_FAULT] = { "sender_fault",
		"exempt: the sender's fault", EFFECT_EXEMPTS },
	[COMP_REASON_RECEIVER_FAULT] = { "receiver_fault",
		"exempt: the receiver's fault", EFFECT_EXEMPTS },
	[COMP_REASON_IMPROPER_PACKAGING] = { "improper_packaging",
		"exempt: improper packaging by the sender", EFFECT_EXEMPTS },
	[COMP_REASON_PACKAGING_ADVICE_IGNORED] = { "packaging_advice_ignored",
		"exempt: our staff had advised better packaging", EFFECT_EXEMPTS },
	[COMP_REASON_OVER_LIMIT_UNDECLARED] = { "over_limit_undeclared",
		"exempt: a piece over the weight or size limit was not declared", EFFECT_EXEMPTS },
	[COMP_REASON_FALSE_DESCRIPTION] = { "false_description",
		"limited: goods described falsely, not liable beyond the declared value", EFFECT_LIMITS },
	[COMP_REASON_PROHIBITED_GOODS] = { "prohibited_goods",
		"exempt: prohibited goods", EFFECT_EXEMPTS },
	[COMP_REASON_SIGNED_WITHOUT_REMARKS] = { "signed_without_remarks",
		"against the claim: the consignee signed without remarks", EFFECT_AGAINST },
	[COMP_REASON_INDIRECT_LOSS] = { "indirect_loss",
		"limited: indirect loss is never paid", EFFECT_LIMITS },
	[COMP_REASON_DELAY_NOT_COVERED] = { "delay_not_covered",
		"not covered: delay is not loss of or damage to goods", EFFECT_EXCLUDES },
	[COMP_REASON_PERIL_NOT_NAMED] = { "peril_not_named",
		"not covered: clause B pays only collision, fire, theft or water damage", EFFECT_EXCLUDES },
	[COMP_REASON_EXCLUDED_IMPROPER_PACKAGING] = { "excluded_improper_packaging",
		"excluded: improper packaging", EFFECT_EXCLUDES },
	[COMP_REASON_EXCLUDED_OVER_LIMIT_UNDECLARED] = { "excluded_over_limit_undeclared",
		"excluded: undeclared over-limit piece", EFFECT_EXCLUDES },
	[COMP_REASON_EXCLUDED_INHERENT_VICE] = { "excluded_inherent_vice",
		"excluded: inherent vice of the goods", EFFECT_EXCLUDES },
	[COMP_REASON_EXCLUDED_INTENTIONAL_ACT] = { "excluded_intentional_act",
		"excluded: intentional act", EFFECT_EXCLUDES },
	[COMP_REASON_EXCLUDED_INDIRECT_LOSS] = { "excluded_indirect_loss",
		"excluded: indirect loss (the direct loss stays covered)", EFFECT_LIMITS },
};

static const char *name_in(const char *const *names, size_t count, int value)
{
	if (value < 0 || (size_t)value >= count)
		return NULL;
	return names[value];
}

/* Index of @p word in @p names; names[i] NULL marks a value with no word.
 * Exact match only, as in complaint_rules: the wire word is the only
 * spelling, so a typo is an error rather than a guess. */
static int parse_in(const char *const *names, size_t count, const char *word, int *value)
{
	if (word == NULL)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		if (names[i] != NULL && strcmp(names[i], word) == 0) {
			*value = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *comp_packaging_name(enum comp_packaging packaging)
{
	return name_in(PACKAGING_NAMES, ARRAY_LEN(PACKAGING_NAMES), (int)packaging);
}

int comp_packaging_parse(const char *word, enum comp_packaging *packaging)
{
	int value;
	int rc = parse_in(PACKAGING_NAMES, ARRAY_LEN(PACKAGING_NAMES), word, &value);
	if (rc == 0)
		*packaging = (enum comp_packaging)value;
	return rc;
}

const char *comp_claim_type_name(enum comp_claim_type type)
{
	return name_in(CLAIM_TYPE_NAMES, ARRAY_LEN(CLAIM_TYPE_NAMES), (int)type);
}

int comp_claim_type_parse(const char *word, enum comp_claim_type *type)
{
	int value;
	int rc = parse_in(CLAIM_TYPE_NAMES, ARRAY_LEN(CLAIM_TYPE_NAMES), word, &value);
	if (rc == 0)
		*type = (enum comp_claim_type)value;
	return rc;
}

const char *comp_cause_name(enum comp_cause cause)
{
	return name_in(CAUSE_NAMES, ARRAY_LEN(CAUSE_NAMES), (int)cause);
}

int comp_cause_parse(const char *word, enum comp_cause *cause)
{
	int value;
	int rc = parse_in(CAUSE_NAMES, ARRAY_LEN(CAUSE_NAMES), word, &value);
	if (rc == 0)
		*cause = (enum comp_cause)value;
	return rc;
}

const char *comp_fault_name(enum comp_fault fault)
{
	return name_in(FAULT_NAMES, ARRAY_LEN(FAULT_NAMES), (int)fault);
}

int comp_fault_parse(const char *word, enum comp_fault *fault)
{
	int value;
	int rc = parse_in(FAULT_NAMES, ARRAY_LEN(FAULT_NAMES), word, &value);
	if (rc == 0)
		*fault = (enum comp_fault)value;
	return rc;
}

const char *comp_decision_name(enum comp_decision decision)
{
	return name_in(DECISION_NAMES, ARRAY_LEN(DECISION_NAMES), (int)decision);
}

int comp_decision_parse(const char *word, enum comp_decision *decision)
{
	int value;
	int rc = parse_in(DECISION_NAMES, ARRAY_LEN(DECISION_NAMES), word, &value);
	if (rc == 0)
		*decision = (enum comp_decision)value;
	return rc;
}

const char *comp_clause_name(enum comp_clause clause)
{
	return name_in(CLAUSE_NAMES, ARRAY_LEN(CLAUSE_NAMES), (int)clause);
}

int comp_clause_parse(const char *word, enum comp_clause *clause)
{
	int value;
	int rc = parse_in(CLAUSE_NAMES, ARRAY_LEN(CLAUSE_NAMES), word, &value);
	if (rc == 0)
		*clause = (enum comp_clause)value;
	return rc;
}

const char *comp_authority_name(enum comp_authority authority)
{
	return name_in(AUTHORITY_NAMES, ARRAY_LEN(AUTHORITY_NAMES), (int)authority);
}

int comp_authority_parse(const char *word, enum comp_authority *authority)
{
	int value;
	int rc = parse_in(AUTHORITY_NAMES, ARRAY_LEN(AUTHORITY_NAMES), word, &value);
	if (rc == 0)
		*authority = (enum comp_authority)value;
	return rc;
}

const char *comp_step_kind_name(enum comp_step_kind kind)
{
	return name_in(STEP_KIND_NAMES, ARRAY_LEN(STEP_KIND_NAMES), (int)kind);
}

int comp_step_kind_parse(const char *word, enum comp_step_kind *kind)
{
	int value;
	int rc = parse_in(STEP_KIND_NAMES, ARRAY_LEN(STEP_KIND_NAMES), word, &value);
	if (rc == 0)
		*kind = (enum comp_step_kind)value;
	return rc;
}

static const struct reason_info *reason_info(enum comp_reason reason)
{
	if ((int)reason <= 0 || (size_t)reason >= ARRAY_LEN(REASONS))
		return NULL;
	return &REASONS[reason];
}

const char *comp_reason_name(enum comp_reason reason)
{
	const struct reason_info *info = reason_info(reason);
	return info ? info->name : NULL;
}

const char *comp_reason_text(enum comp_reason reason)
{
	const struct reason_info *info = reason_info(reason);
	return info ? info->text : NULL;
}

int comp_reason_parse(const char *word, enum comp_reason *reason)
{
	if (word == NULL)
		return -EINVAL;
	for (size_t i = 1; i < ARRAY_LEN(REASONS); i++) {
		if (strcmp(REASONS[i].name, word) == 0) {
			*reason = (enum comp_reason)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                           */

void comp_config_from_options(const struct config *opt, struct comp_config *config)
{
	*config = (struct comp_config){
		.deductible_fen = opt->claim_deductible_fen,
		.insurer_deductible_fen = opt->insurer_deductible_fen,
		.uninsured_fee_multiple = opt->uninsured_fee_multiple,
		.clause_b_piece_value_fen = opt->clause_b_piece_value_fen,
		.adjuster_limit_fen = opt->authority_handler_fen,
		.supervisor_limit_fen = opt->authority_supervisor_fen,
		/* a rule, not an option: ex gratia always needs a supervisor */
		.ex_gratia_min_authority = COMP_AUTHORITY_SUPERVISOR,
	};
}

void comp_config_default(struct comp_config *config)
{
	struct config opt;
	config_default(&opt);
	comp_config_from_options(&opt, config);
}

static bool amount_valid(int64_t fen)
{
	return fen >= 0 && fen <= COMP_MAX_AMOUNT_FEN;
}

/* Records @p field as bad unless @p ok, keeping only the first bad one,
 * so the checks below read as one list. */
static void check(bool ok, const char *field, const char **invalid_field)
{
	if (!ok && *invalid_field == NULL)
		*invalid_field = field;
}

int comp_config_validate(const struct comp_config *config, const char **invalid_field)
{
	const char *bad = NULL;

	if (config == NULL) {
		bad = "config";
	} else {
		check(amount_valid(config->deductible_fen), "config.deductible_fen", &bad);
		check(amount_valid(config->insurer_deductible_fen), "config.insurer_deductible_fen", &bad);
		check(config->uninsured_fee_multiple >= 0
				&& config->uninsured_fee_multiple <= COMP_MAX_FEE_MULTIPLE,
			"config.uninsured_fee_multiple", &bad);
		check(amount_valid(config->clause_b_piece_value_fen), "config.clause_b_piece_value_fen", &bad);
		check(amount_valid(config->adjuster_limit_fen), "config.adjuster_limit_fen", &bad);
		check(amount_valid(config->supervisor_limit_fen)
				&& config->supervisor_limit_fen >= config->adjuster_limit_fen,
			"config.supervisor_limit_fen", &bad);
		check(comp_authority_name(config->ex_gratia_min_authority) != NULL,
			"config.ex_gratia_min_authority", &bad);
	}
	if (invalid_field != NULL)
		*invalid_field = bad;
	return bad == NULL ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------------- */
/* Input validation                                                        */

static bool is_goods_claim(enum comp_claim_type type)
{
	return type != COMP_CLAIM_DELAY;
}

/* Length of @p s if it is at most @p max bytes, else max + 1; reads no
 * further than that (the input may be a long, untrusted string). */
static size_t bounded_length(const char *s, size_t max)
{
	size_t n = 0;
	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

static bool depot_code_valid(const char *code, bool required)
{
	if (code == NULL || code[0] == '\0')
		return !required;
	return bounded_length(code, COMP_DEPOT_CODE_MAX_BYTES) <= COMP_DEPOT_CODE_MAX_BYTES;
}

static void validate_waybill(const struct comp_waybill *w, const char **bad)
{
	check(amount_valid(w->fee_fen), "waybill.fee_fen", bad);
	check(amount_valid(w->declared_value_fen), "waybill.declared_value_fen", bad);
	/* Insured with nothing declared would cap every payment at zero:
	 * a data error, not a claim to assess. */
	check(!w->insured || w->declared_value_fen > 0, "waybill.declared_value_fen", bad);
	check(w->pieces >= 1, "waybill.pieces", bad);
	check(amount_valid(w->max_piece_value_fen), "waybill.max_piece_value_fen", bad);
	check(comp_packaging_name(w->packaging) != NULL, "waybill.packaging", bad);
	check(w->lateness_discount_bp >= 0 && w->lateness_discount_bp <= COMP_BASIS_POINTS_WHOLE,
		"waybill.lateness_discount_bp", bad);
	check(!w->contract_fee_multiple_set || (w->contract_fee_multiple >= 0
			&& w->contract_fee_multiple <= COMP_MAX_FEE_MULTIPLE),
		"waybill.contract_fee_multiple", bad);
}

static void validate_claim(const struct comp_claim *c, const char **bad)
{
	check(comp_claim_type_name(c->type) != NULL, "claim.type", bad);
	check(amount_valid(c->claimed_fen) && c->claimed_fen > 0, "claim.claimed_fen", bad);
	check(amount_valid(c->ex_gratia_fen), "claim.ex_gratia_fen", bad);
}

static void validate_assessment(const struct comp_assessment *a, const struct comp_waybill *w,
		const struct comp_claim *c, const char **bad)
{
	/* Only an uninsured goods claim has a contract cap to set aside. */
	check(!a->cap_set_aside || (!w->insured && is_goods_claim(c->type)),
		"assessment.cap_set_aside", bad);
	check(amount_valid(a->actual_loss_fen), "assessment.actual_loss_fen", bad);
	check(amount_valid(a->real_value_fen), "assessment.real_value_fen", bad);
	/* The goods cannot lose more than they are worth. */
	check(a->real_value_fen == 0 || a->actual_loss_fen <= a->real_value_fen,
		"assessment.actual_loss_fen", bad);
	check(comp_cause_name(a->cause) != NULL, "assessment.cause", bad);
	check(comp_fault_name(a->fault) != NULL, "assessment.fault", bad);
	check(amount_valid(a->indirect_loss_fen) && a->indirect_loss_fen <= c->claimed_fen,
		"assessment.indirect_loss_fen", bad);
	check(depot_code_valid(a->accepting_depot, true), "assessment.accepting_depot", bad);
	check(depot_code_valid(a->responsible_depot, false), "assessment.responsible_depot", bad);
	if (a->sub_carrier_at_fault) {
		/* Toward the customer a sub-carrier we engaged is us. */
		check(a->fault == COMP_FAULT_OURS, "assessment.sub_carrier_at_fault", bad);
		check(a->sub_carrier != NULL && a->sub_carrier[0] != '\0'
				&& bounded_length(a->sub_carrier, COMP_SUB_CARRIER_NAME_MAX_BYTES)
					<= COMP_SUB_CARRIER_NAME_MAX_BYTES,
			"assessment.sub_carrier", bad);
	}
}

/* ---------------------------------------------------------------------- */
/* Steps and reasons                                                       */

/* The lists are sized above the longest assessment (a unit test checks),
 * so the guard never drops a line in practice. Fields are set one by one
 * into the zeroed slot so that padding stays zero and two results of the
 * same inputs compare equal byte for byte. */
static void add_step(struct comp_steps *steps, enum comp_step_kind kind, const char *label,
		int64_t amount_fen, int64_t numerator, int64_t denominator, const char *note)
{
	if (steps->count >= COMP_MAX_STEPS)
		return;
	struct comp_step *step = &steps->items[steps->count++];
	step->kind = kind;
	step->label = label;
	step->amount_fen = amount_fen;
	step->numerator = numerator;
	step->denominator = denominator;
	step->note = note;
}

static void step_finding(struct comp_steps *steps, const char *label, const char *note)
{
	add_step(steps, COMP_STEP_FINDING, label, 0, 0, 0, note);
}

static int64_t step_amount(struct comp_steps *steps, const char *label, int64_t fen, const char *note)
{
	add_step(steps, COMP_STEP_AMOUNT, label, fen, 0, 0, note);
	return fen;
}

static void step_ratio(struct comp_steps *steps, const char *label, int64_t numerator,
		int64_t denominator, const char *note)
{
	add_step(steps, COMP_STEP_RATIO, label, 0, numerator, denominator, note);
}

/* A reason goes into the list and, as a finding, into the steps, so the
 * supervisor reads one story from top to bottom. */
static void add_reason(struct comp_reasons *reasons, struct comp_steps *steps,
		enum comp_reason reason, const char *note)
{
	if (reasons->count < COMP_MAX_REASONS)
		reasons->items[reasons->count++] = reason;
	step_finding(steps, comp_reason_text(reason), note);
}

static bool has_effect(const struct comp_reasons *reasons, enum reason_effect effect)
{
	for (size_t i = 0; i < reasons->count; i++)
		if (REASONS[reasons->items[i]].effect == effect)
			return true;
	return false;
}

/* ---------------------------------------------------------------------- */
/* Arithmetic                                                              */

static int64_t min_fen(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* value x numerator / denominator, rounded half up to the fen.
 * All three are non-negative and denominator > 0; the product is taken in
 * 128 bits and the result is at most value when numerator <= denominator,
 * which is how every caller uses it. */
static int64_t scale_round_half_up(int64_t value, int64_t numerator, int64_t denominator)
{
	wide_int product = (wide_int)value * numerator;
	wide_int quotient = product / denominator;
	wide_int remainder = product % denominator;
	if (remainder * 2 >= denominator)
		quotient++;
	return (int64_t)quotient;
}

/* ---------------------------------------------------------------------- */
/* Liability: one function per rule of section 5                           */

/* Both an exemption toward the customer and an insurer exclusion. */
static bool has_undeclared_over_limit_piece(const struct comp_waybill *w)
{
	return w->over_limit && !w->over_limit_declared;
}

/* Force majeure and the nature of the goods exempt the carrier only when
 * it bears no fault: force majeure after our own delay does not exempt
 * (Civil Code art. 590), so an assessor's "ours" wins over the cause. An
 * insured parcel is paid despite force majeure (model waybill terms); the
 * insurer's own clauses decide what it pays back. */
static void rule_force_majeure(const struct comp_waybill *w, const struct comp_assessment *a,
		struct comp_result *r)
{
	if (a->cause != COMP_CAUSE_FORCE_MAJEURE)
		return;
	if (a->fault == COMP_FAULT_OURS) {
		step_finding(&r->steps, "force majeure not accepted as an exemption",
			"the assessor found our fault contributed (Civil Code art. 590)");
		return;
	}
	if (w->insured) {
		step_finding(&r->steps, "force majeure does not exempt an insured parcel",
			"an insured parcel is paid despite force majeure");
		return;
	}
	add_reason(&r->reasons, &r->steps, COMP_REASON_FORCE_MAJEURE,
		"unforeseeable, unavoidable and insurmountable: an uninsured parcel is not paid");
}

static void rule_nature_of_goods(const struct comp_assessment *a, struct comp_result *r)
{
	if (a->cause != COMP_CAUSE_NATURE_OF_GOODS)
		return;
	if (a->fault == COMP_FAULT_OURS) {
		step_finding(&r->steps, "nature of the goods not accepted as an exemption",
			"the assessor found our fault contributed");
		return;
	}
	add_reason(&r->reasons, &r->steps, COMP_REASON_NATURE_OF_GOODS,
		"the loss came from the goods themselves");
}

static void rule_party_fault(const struct comp_assessment *a, struct comp_result *r)
{
	if (a->fault == COMP_FAULT_SENDER)
		add_reason(&r->reasons, &r->steps, COMP_REASON_SENDER_FAULT, "the assessor found the sender at fault");
	else if (a->fault == COMP_FAULT_RECEIVER)
		add_reason(&r->reasons, &r->steps, COMP_REASON_RECEIVER_FAULT, "the assessor found the receiver at fault");
}

/* Improper packaging is the sender's fault only when the sender packed:
 * if our staff packed the parcel, the bad packing is ours. */
static void rule_improper_packaging(const struct comp_waybill *w, const struct comp_assessment *a,
		struct comp_result *r)
{
	if (a->cause != COMP_CAUSE_IMPROPER_PACKAGING)
		return;
	if (w->packaging == COMP_PACKAGING_CARRIER) {
		step_finding(&r->steps, "improper packaging not accepted as an exemption",
			"our staff packed the parcel");
		return;
	}
	if (a->fault == COMP_FAULT_OURS) {
		step_finding(&r->steps, "improper packaging not accepted as an exemption",
			"the assessor found our fault contributed");
		return;
	}
	add_reason(&r->reasons, &r->steps, COMP_REASON_IMPROPER_PACKAGING,
		"the sender packed the goods and the packing did not protect them");
	if (a->staff_advised_packaging)
		add_reason(&r->reasons, &r->steps, COMP_REASON_PACKAGING_ADVICE_IGNORED,
			"the sender kept the packing after our advice");
}

static void rule_over_limit_undeclared(const struct comp_waybill *w, struct comp_result *r)
{
	if (has_undeclared_over_limit_piece(w))
		add_reason(&r->reasons, &r->steps, COMP_REASON_OVER_LIMIT_UNDECLARED,
			"the piece should have been declared at acceptance");
}

/* "Not liable beyond what was declared" limits the value of goods; a delay
 * claim is paid from our fee, not from the goods' value, so it is untouched. */
static void rule_false_description(const struct comp_waybill *w, const struct comp_claim *c,
		struct comp_result *r)
{
	if (w->goods_described_falsely && is_goods_claim(c->type))
		add_reason(&r->reasons, &r->steps, COMP_REASON_FALSE_DESCRIPTION,
			"capped at the declared value");
}

static void rule_prohibited_goods(const struct comp_waybill *w, struct comp_result *r)
{
	if (w->prohibited_goods)
		add_reason(&r->reasons, &r->steps, COMP_REASON_PROHIBITED_GOODS, "goods we may not carry");
}

/* A clean signature is first evidence that the goods arrived in good
 * condition (Civil Code art. 831), not a bar: it weighs against a damage or
 * shortage claim and a supervisor decides. A different item is not
 * something a consignee can see when signing for a closed parcel, so the
 * signature says nothing about it. */
static void rule_signed_without_remarks(const struct comp_waybill *w, const struct comp_claim *c,
		struct comp_result *r)
{
	if (!w->delivered || w->signed_with_remarks)
		return;
	if (c->type == COMP_CLAIM_MISMATCH_DIFFERENT_ITEM) {
		step_finding(&r->steps, "signed without remarks: says nothing about a different item",
			"a closed parcel does not show what is inside");
		return;
	}
	if (c->type != COMP_CLAIM_DAMAGE_TOTAL && c->type != COMP_CLAIM_DAMAGE_PARTIAL
			&& c->type != COMP_CLAIM_MISMATCH_SHORT)
		return;
	if (!w->signer_is_consignee) {
		step_finding(&r->steps, "signed without remarks, but not by the consignee: no weight",
			"only the consignee's or an authorised person's signature counts");
		return;
	}
	if (!w->proof_of_delivery_available) {
		step_finding(&r->steps, "signed without remarks, but no signed proof of delivery: no weight",
			"we cannot produce the signature");
		return;
	}
	add_reason(&r->reasons, &r->steps, COMP_REASON_SIGNED_WITHOUT_REMARKS,
		"first evidence the goods arrived in good condition, not a bar: the claimant shows the "
		"damage happened in our care, and a supervisor decides");
}

static void rule_indirect_loss(const struct comp_assessment *a, struct comp_result *r)
{
	if (a->indirect_loss_fen > 0)
		add_reason(&r->reasons, &r->steps, COMP_REASON_INDIRECT_LOSS,
			"lost profit, penalties owed to others and market loss are not paid");
}

static void check_liability(const struct comp_waybill *w, const struct comp_claim *c,
		const struct comp_assessment *a, struct comp_result *r)
{
	rule_force_majeure(w, a, r);
	rule_nature_of_goods(a, r);
	rule_party_fault(a, r);
	rule_improper_packaging(w, a, r);
	rule_over_limit_undeclared(w, r);
	rule_false_description(w, c, r);
	rule_prohibited_goods(w, r);
	rule_signed_without_remarks(w, c, r);
	rule_indirect_loss(a, r);

	r->decision = has_effect(&r->reasons, EFFECT_EXEMPTS) ? COMP_DECISION_EXEMPT : COMP_DECISION_LIABLE;
}

/* ---------------------------------------------------------------------- */
/* How much                                                                */

/* What the customer claims, less the indirect part we never pay. */
static int64_t direct_claimed(struct comp_steps *steps, const struct comp_claim *c,
		const struct comp_assessment *a)
{
	if (a->indirect_loss_fen > 0)
		step_amount(steps, "indirect loss claimed", a->indirect_loss_fen,
			"never paid");
	return step_amount(steps, "direct amount claimed", c->claimed_fen - a->indirect_loss_fen,
		"the claim less its indirect part");
}

/* Delay: the fee is waived, or the contract's lateness discount instead.
 * No deductible: it belongs to insured loss of goods, and a delay pays
 * back our own fee. */
static int64_t delay_amount(struct comp_steps *steps, const struct comp_waybill *w,
		const struct comp_claim *c, const struct comp_assessment *a)
{
	int64_t waiver;

	step_amount(steps, "service fee", w->fee_fen,
		"delay: the fee is waived, not the insurance premium");
	if (w->lateness_discount_bp > 0) {
		if (w->lateness_discount_for_claim)
			step_ratio(steps, "lateness discount set for this claim", w->lateness_discount_bp,
				COMP_BASIS_POINTS_WHOLE, "set for this claim instead of the waiver, in place of the contract's");
		else
			step_ratio(steps, "contract lateness discount", w->lateness_discount_bp,
				COMP_BASIS_POINTS_WHOLE, "the customer's contract sets it instead of the waiver");
		waiver = step_amount(steps, "lateness discount on the fee",
			scale_round_half_up(w->fee_fen, w->lateness_discount_bp, COMP_BASIS_POINTS_WHOLE),
			"fee x rate, rounded half up to the fen");
	} else {
		waiver = step_amount(steps, "fee waived", w->fee_fen, w->lateness_discount_for_claim
			? "the whole service fee: the contract's lateness discount is set aside for this claim"
			: "the whole service fee");
	}
	if (w->insured)
		step_finding(steps, "no deductible on a delay claim",
			"the deductible applies to insured loss of goods");
	return step_amount(steps, "delay compensation (lower of waiver and claimed)",
		min_fen(waiver, direct_claimed(steps, c, a)), "we never pay more than claimed");
}

/* Which rule of section 5 turns each goods claim into a loss in value. */
static const char *const GOODS_BASIS_NOTES[] = {
	[COMP_CLAIM_LOSS] = "loss: the actual value of the goods",
	[COMP_CLAIM_DAMAGE_TOTAL] = "total damage: paid as loss",
	[COMP_CLAIM_DAMAGE_PARTIAL] = "partial damage: the share of value lost (repair cost or depreciation)",
	[COMP_CLAIM_MISMATCH_DIFFERENT_ITEM] = "a different item: paid as total damage",
	[COMP_CLAIM_MISMATCH_SHORT] = "short quantity or weight: paid as partial damage",
};

/* The loss we start from: never more than the customer claims directly. */
static int64_t goods_loss_basis(struct comp_steps *steps, const struct comp_claim *c,
		const struct comp_assessment *a)
{
	step_amount(steps, "actual loss assessed", a->actual_loss_fen, GOODS_BASIS_NOTES[c->type]);
	int64_t claimed = direct_claimed(steps, c, a);
	return step_amount(steps, "loss basis (lower of assessed and claimed)",
		min_fen(a->actual_loss_fen, claimed), "we never pay more than claimed");
}

/* The two sides of an insured claim differ only in their deductible. */
struct deductible {
	const char *label;
	const char *note;
	int64_t fen;
};

/* Insured: ratio, then declared-value limit, then deductible (order and
 * reasons in compensation.h). Shared by the customer and the insurer side. */
static int64_t insured_amount(struct comp_steps *steps, int64_t basis, const struct comp_waybill *w,
		const struct comp_assessment *a, struct deductible deductible)
{
	int64_t amount = basis;

	if (a->real_value_fen == 0) {
		step_finding(steps, "real value not established: no under-insurance ratio",
			"the ratio needs proof that the goods were worth more than declared");
	} else if (w->declared_value_fen < a->real_value_fen) {
		step_ratio(steps, "under-insurance: declared / real value", w->declared_value_fen,
			a->real_value_fen, "declared value below the real value");
		amount = step_amount(steps, "after under-insurance",
			scale_round_half_up(amount, w->declared_value_fen, a->real_value_fen),
			"loss x declared / real, rounded half up to the fen");
	} else {
		step_finding(steps, "declared value covers the real value: no under-insurance", "");
	}
	step_amount(steps, "limit: declared value", w->declared_value_fen, "insured: at most the declared value");
	amount = step_amount(steps, "after declared-value limit", min_fen(amount, w->declared_value_fen), "");
	step_amount(steps, deductible.label, deductible.fen, deductible.note);
	return step_amount(steps, "after deductible (never below zero)",
		amount > deductible.fen ? amount - deductible.fen : 0, "");
}

/* Uninsured: the proven loss, at most the contract cap (a term of our
 * carriage terms or of the customer's contract, not law) unless a
 * supervisor set it aside for this claim; a false description also caps
 * at the declared value. */
static int64_t uninsured_amount(struct comp_result *r, int64_t basis, const struct comp_config *cfg,
		const struct comp_waybill *w, const struct comp_assessment *a)
{
	struct comp_steps *steps = &r->steps;
	int64_t multiple = w->contract_fee_multiple_set ? w->contract_fee_multiple : cfg->uninsured_fee_multiple;
	/* At most 10^15 x 1000: fits (see COMP_MAX_AMOUNT_FEN). */
	int64_t limit = w->fee_fen * multiple;
	int64_t amount = basis;

	snprintf(r->cap_note, sizeof r->cap_note, "contract cap (%s): %" PRId64 " x the fee",
		w->contract_fee_multiple_set ? "the customer's contract" : "our carriage terms", multiple);
	step_amount(steps, "limit: contract cap (fee x multiple)", limit, r->cap_note);
	if (a->cap_set_aside)
		step_finding(steps, "contract cap set aside: the customer proved a higher loss",
			"a supervisor's decision for this claim: the proven loss is paid");
	else
		amount = step_amount(steps, "after contract cap", min_fen(amount, limit), "");
	if (w->goods_described_falsely) {
		step_amount(steps, "limit: declared value", w->declared_value_fen,
			"false description: not liable beyond the declared value");
		amount = step_amount(steps, "after declared-value limit",
			min_fen(amount, w->declared_value_fen), "");
	}
	return amount;
}

/* A loss, and the total damage and different item paid as one, refund the
 * service fee on top of the compensation; partial damage and shortage pay
 * the actual loss alone. */
static bool refunds_fee(enum comp_claim_type type)
{
	return type == COMP_CLAIM_LOSS || type == COMP_CLAIM_DAMAGE_TOTAL
		|| type == COMP_CLAIM_MISMATCH_DIFFERENT_ITEM;
}

/* The amount the rules give if we are liable; computed for every claim so
 * a supervisor weighing ex gratia on an exempt claim sees it too. Sets
 * @p refund to the fee refunded within it. */
static int64_t rules_amount(const struct comp_config *cfg, const struct comp_waybill *w,
		const struct comp_claim *c, const struct comp_assessment *a, struct comp_result *r,
		int64_t *refund)
{
	struct comp_steps *steps = &r->steps;
	int64_t amount;

	*refund = 0;
	if (!is_goods_claim(c->type))
		return delay_amount(steps, w, c, a);
	int64_t basis = goods_loss_basis(steps, c, a);
	if (w->insured)
		amount = insured_amount(steps, basis, w, a, (struct deductible){ "deductible",
			"per claim", cfg->deductible_fen });
	else
		amount = uninsured_amount(r, basis, cfg, w, a);
	if (!refunds_fee(c->type))
		return amount;
	*refund = step_amount(steps, "service fee refunded", w->fee_fen,
		"a loss refunds the fee on top of the compensation (not the insurance premium)");
	return step_amount(steps, "compensation plus fee refunded", amount + *refund, "");
}

static void settle_owed(struct comp_result *r, int64_t amount, int64_t refund)
{
	static const char *const NOTES[] = {
		[COMP_DECISION_LIABLE] = "by the rules above",
		[COMP_DECISION_EXEMPT] = "exempt: nothing is owed",
		[COMP_DECISION_REFUSED] = "claim refused: nothing is owed",
	};
	bool liable = r->decision == COMP_DECISION_LIABLE;

	r->fee_refund_fen = liable ? refund : 0;
	r->owed_fen = step_amount(&r->steps, "owed to the customer", liable ? amount : 0, NOTES[r->decision]);
}

/* Ex gratia: on top of what is owed, never past the amount claimed (the
 * fee refund aside), and never for prohibited goods (no goodwill gesture
 * for goods we may not carry). */
static void settle_ex_gratia(const struct comp_waybill *w, const struct comp_claim *c,
		struct comp_result *r)
{
	int64_t granted = 0;

	if (c->ex_gratia_fen > 0) {
		/* compensation <= direct claimed <= claimed, so room >= 0 */
		int64_t room = c->claimed_fen - (r->owed_fen - r->fee_refund_fen);
		granted = step_amount(&r->steps, "ex gratia proposed", c->ex_gratia_fen,
			"paid beyond the rules to keep the customer");
		if (w->prohibited_goods) {
			step_finding(&r->steps, "ex gratia not offered: prohibited goods", "");
			granted = 0;
		} else if (granted > room) {
			granted = step_amount(&r->steps, "ex gratia limited to the claim", room,
				"compensation plus ex gratia never exceeds the claim");
		}
	}
	r->ex_gratia_fen = granted;
	r->payable_fen = step_amount(&r->steps, "payable to the customer", r->owed_fen + granted,
		"owed plus ex gratia");
}

/* ---------------------------------------------------------------------- */
/* The insurer                                                             */

static bool is_named_peril(enum comp_cause cause)
{
	return cause == COMP_CAUSE_COLLISION || cause == COMP_CAUSE_FIRE
		|| cause == COMP_CAUSE_THEFT || cause == COMP_CAUSE_WATER;
}

/* Clause B: used goods, a piece worth MORE than the threshold, not in
 * original factory packaging. An unrecorded piece value is taken as the
 * whole declared value, the worst case. */
static void insurer_clause(const struct comp_config *cfg, const struct comp_waybill *w,
		struct comp_insurer *ins)
{
	int64_t piece_value = w->max_piece_value_fen > 0 ? w->max_piece_value_fen : w->declared_value_fen;

	if (!w->insured) {
		ins->clause = COMP_CLAUSE_NONE;
		ins->clause_note = "waybill not insured: no insurer behind it";
	} else if (!w->used_goods) {
		ins->clause = COMP_CLAUSE_A;
		ins->clause_note = "new goods: all risks";
	} else if (piece_value <= cfg->clause_b_piece_value_fen) {
		ins->clause = COMP_CLAUSE_A;
		ins->clause_note = "used goods, but no piece worth more than the clause B threshold";
	} else if (w->packaging == COMP_PACKAGING_ORIGINAL_FACTORY) {
		ins->clause = COMP_CLAUSE_A;
		ins->clause_note = "used goods worth more than the threshold, but in original factory packaging";
	} else {
		ins->clause = COMP_CLAUSE_B;
		ins->clause_note = "used goods, a piece worth more than the threshold, not in original factory packaging";
	}
	step_finding(&ins->steps,
		ins->clause == COMP_CLAUSE_B ? "clause B: named perils only"
		: ins->clause == COMP_CLAUSE_A ? "clause A: all risks" : "no insurer",
		ins->clause_note);
}

/* Every exclusion is listed, as on the customer side. */
static void insurer_exclusions(const struct comp_waybill *w, const struct comp_claim *c,
		const struct comp_assessment *a, struct comp_insurer *ins)
{
	if (!is_goods_claim(c->type))
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_DELAY_NOT_COVERED,
			"the policy covers loss of and damage to goods");
	if (ins->clause == COMP_CLAUSE_B && !is_named_peril(a->cause))
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_PERIL_NOT_NAMED, "clause B names its perils");
	if (a->cause == COMP_CAUSE_IMPROPER_PACKAGING)
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_EXCLUDED_IMPROPER_PACKAGING,
			"an exclusion of the cargo policy, whoever packed");
	if (has_undeclared_over_limit_piece(w))
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_EXCLUDED_OVER_LIMIT_UNDECLARED,
			"an exclusion of the cargo policy");
	if (a->cause == COMP_CAUSE_NATURE_OF_GOODS)
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_EXCLUDED_INHERENT_VICE,
			"an exclusion of the cargo policy");
	if (a->intentional_act)
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_EXCLUDED_INTENTIONAL_ACT,
			"an exclusion of the cargo policy");
	if (a->indirect_loss_fen > 0)
		add_reason(&ins->reasons, &ins->steps, COMP_REASON_EXCLUDED_INDIRECT_LOSS,
			"an exclusion of the cargo policy");
}

/* Covered loss with the same caps, minus the insurer's deductible, and
 * never more than we owe: the insurer makes good our liability, no more. */
static void insurer_amount(const struct comp_config *cfg, const struct comp_waybill *w,
		const struct comp_claim *c, const struct comp_assessment *a, int64_t owed_fen,
		struct comp_insurer *ins)
{
	if (!ins->covered) {
		ins->pays_fen = step_amount(&ins->steps, "insurer pays", 0, "not covered");
		return;
	}
	int64_t basis = goods_loss_basis(&ins->steps, c, a);
	int64_t amount = insured_amount(&ins->steps, basis, w, a, (struct deductible){
		"insurer deductible", "per claim, under our cargo policy", cfg->insurer_deductible_fen });
	step_amount(&ins->steps, "owed to the customer", owed_fen,
		"the insurer pays back at most what we owe under the rules");
	ins->pays_fen = step_amount(&ins->steps, "insurer pays", min_fen(amount, owed_fen), "");
}

static void assess_insurer(const struct comp_config *cfg, const struct comp_waybill *w,
		const struct comp_claim *c, const struct comp_assessment *a, int64_t owed_fen,
		struct comp_insurer *ins)
{
	insurer_clause(cfg, w, ins);
	if (ins->clause == COMP_CLAUSE_NONE)
		return;
	insurer_exclusions(w, c, a, ins);
	ins->covered = !has_effect(&ins->reasons, EFFECT_EXCLUDES);
	insurer_amount(cfg, w, c, a, owed_fen, ins);
	if (ins->pays_fen > 0 && (a->sub_carrier_at_fault || a->third_party_liable)) {
		ins->subrogation = true;
		step_finding(&ins->steps, "subrogation: the insurer takes over our claim against the third party",
			"after paying, the insurer recovers from whoever caused the loss");
	}
}

/* ---------------------------------------------------------------------- */
/* Who bears the loss inside the network                                   */

/* Lengths were validated, so @p src always fits in @p dest. */
static void copy_text(char *dest, size_t dest_size, const char *src)
{
	size_t n = bounded_length(src, dest_size - 1);
	memcpy(dest, src, n);
	dest[n] = '\0';
}

static void assess_network(const struct comp_assessment *a, const struct comp_result *r,
		struct comp_network *net)
{
	bool responsible_known = a->responsible_depot != NULL && a->responsible_depot[0] != '\0';
	const char *bearing = responsible_known ? a->responsible_depot : a->accepting_depot;

	copy_text(net->paying_depot, sizeof net->paying_depot, a->accepting_depot);
	net->paid_to_customer_fen = r->payable_fen;
	copy_text(net->bearing_depot, sizeof net->bearing_depot, bearing);
	if (strcmp(bearing, a->accepting_depot) != 0) {
		copy_text(net->reimbursing_depot, sizeof net->reimbursing_depot, bearing);
		net->reimbursement_fen = r->owed_fen;
	}

	int64_t left_after_insurer = r->owed_fen - r->insurer.pays_fen;
	if (a->sub_carrier_at_fault) {
		copy_text(net->sub_carrier, sizeof net->sub_carrier, a->sub_carrier);
		if (a->sub_carrier_has_contract && left_after_insurer > 0) {
			net->sub_carrier_recovery_expected = true;
			net->sub_carrier_recovery_fen = left_after_insurer;
		}
	}
	net->bearing_depot_net_fen = left_after_insurer - net->sub_carrier_recovery_fen;
}

/* ---------------------------------------------------------------------- */
/* Authority                                                               */

enum comp_authority comp_authority_required(const struct comp_config *config,
		int64_t payable_fen, bool ex_gratia)
{
	enum comp_authority level = COMP_AUTHORITY_MANAGER;

	if (payable_fen <= config->adjuster_limit_fen)
		level = COMP_AUTHORITY_ADJUSTER;
	else if (payable_fen <= config->supervisor_limit_fen)
		level = COMP_AUTHORITY_SUPERVISOR;
	if (ex_gratia && level < config->ex_gratia_min_authority)
		level = config->ex_gratia_min_authority;
	return level;
}

static void settle_authority(const struct comp_config *cfg, struct comp_result *r)
{
	static const char *const LABELS[] = {
		[COMP_AUTHORITY_ADJUSTER] = "approval needed: adjuster",
		[COMP_AUTHORITY_SUPERVISOR] = "approval needed: supervisor",
		[COMP_AUTHORITY_MANAGER] = "approval needed: manager",
	};

	const char *note = r->ex_gratia_fen > 0
		? "authority limits in the config; ex gratia raises it to the configured minimum"
		: "authority limits in the config";

	r->authority = comp_authority_required(cfg, r->payable_fen, r->ex_gratia_fen > 0);
	/* an exempt claim is not decided on the signature */
	if (r->decision == COMP_DECISION_LIABLE && has_effect(&r->reasons, EFFECT_AGAINST)) {
		note = "a finding weighs against the claim: a supervisor decides to pay, partly pay or refuse";
		if (r->authority < COMP_AUTHORITY_SUPERVISOR)
			r->authority = COMP_AUTHORITY_SUPERVISOR;
	}
	step_finding(&r->steps, LABELS[r->authority], note);
}

/* ---------------------------------------------------------------------- */

int comp_assess(const struct comp_config *config, const struct comp_waybill *waybill,
		const struct comp_claim *claim, const struct comp_assessment *assessment,
		struct comp_result *result)
{
	const char *bad = NULL;

	if (result == NULL)
		return -EINVAL;
	memset(result, 0, sizeof *result);
	if (config == NULL || waybill == NULL || claim == NULL || assessment == NULL) {
		result->invalid_field = "NULL argument";
		return -EINVAL;
	}
	comp_config_validate(config, &bad);
	validate_waybill(waybill, &bad);
	validate_claim(claim, &bad);
	validate_assessment(assessment, waybill, claim, &bad);
	if (bad != NULL) {
		result->invalid_field = bad;
		return -EINVAL;
	}

	check_liability(waybill, claim, assessment, result);
	int64_t refund;
	int64_t amount = rules_amount(config, waybill, claim, assessment, result, &refund);
	settle_owed(result, amount, refund);
	settle_ex_gratia(waybill, claim, result);
	assess_insurer(config, waybill, claim, assessment, result->owed_fen, &result->insurer);
	assess_network(assessment, result, &result->network);
	settle_authority(config, result);
	return 0;
}
