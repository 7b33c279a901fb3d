/** @file compensation.h
 *	@brief Claims compensation engine: liability, amount owed, insurer side,
 *	who bears the loss inside the network, and the approval level.
 *
 *	This header is the contract. docs/compensation.md states the rules it
 *	implements, with the outside source each rests on, the worked examples
 *	(each one a unit test in tests/unit/test_compensation.c) and every
 *	choice made where the sources are silent.
 *
 *	@section comp_purity Pure functions
 *	Every function here is pure: no I/O, no clock, no globals, no allocation.
 *	The same inputs always give the same result, so a claim can be
 *	re-assessed at any time and the answer compared line by line. Inputs are
 *	only read; strings in the result are either static (labels, notes) or
 *	copied into the result (depot codes, sub-carrier name, the contract
 *	cap's note, see comp_result::cap_note).
 *
 *	@section comp_money Money and arithmetic
 *	Money is int64_t fen (1 yuan = 100 fen), never floating point. Every
 *	amount accepted is between 0 and #COMP_MAX_AMOUNT_FEN; above that the
 *	input is refused (-EINVAL), so every figure shown in a step, including
 *	"fee x multiple", fits an int64_t exactly. Products (loss x declared)
 *	are computed in 128 bits, so no intermediate overflows.
 *
 *	@section comp_rounding Rounding
 *	The engine divides in two places only: the under-insurance ratio
 *	(loss x declared / real) and a contract lateness discount
 *	(fee x basis points / 10000). Both round HALF UP to the fen: a remainder
 *	of exactly half a fen or more goes up, less goes down. Nothing else is
 *	divided.
 *
 *	@section comp_order Order of the insured computation
 *	For an insured waybill the steps are, in this order:
 *	 -# loss basis = the lower of the assessed direct loss and the direct
 *	    amount claimed (we never pay more than the customer asks);
 *	 -# under-insurance, only when the real value is established and above
 *	    the declared value: basis x declared / real (round half up);
 *	 -# at most the declared value;
 *	 -# minus the deductible, never below zero;
 *	 -# plus the service fee refunded, for a loss (and a total damage or a
 *	    different item, which count as one).
 *	The ratio is applied to the loss, not to the capped figure (capping first
 *	and then scaling would cut the payment twice for the same
 *	under-insurance). The deductible comes last, so it stays the fixed
 *	amount per claim the rules name; deducting before the ratio would shrink
 *	the deductible for under-insured parcels, a reward for under-declaring.
 */
#ifndef PARCELDESK_COMPENSATION_H
#define PARCELDESK_COMPENSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest amount accepted in any money field, in fen: 10^15 fen, ten
 *	trillion yuan. Far above any parcel; it keeps every displayed figure,
 *	including fee x #COMP_MAX_FEE_MULTIPLE, exact in an int64_t. */
#define COMP_MAX_AMOUNT_FEN INT64_C(1000000000000000)
/** Largest uninsured fee multiple accepted in the config. */
#define COMP_MAX_FEE_MULTIPLE 1000
/** Basis points in one whole (100%). */
#define COMP_BASIS_POINTS_WHOLE 10000
/** Longest depot code, in bytes, without the terminating NUL. */
#define COMP_DEPOT_CODE_MAX_BYTES 31
/** Longest sub-carrier name, in bytes of UTF-8, without the NUL. */
#define COMP_SUB_CARRIER_NAME_MAX_BYTES 127
/** Capacity of a reason list. More than the number of reason codes, so a
 *	list never runs out. */
#define COMP_MAX_REASONS 24
/** Capacity of a step list. The longest assessment the engine can produce
 *	uses fewer (checked by a unit test). */
#define COMP_MAX_STEPS 48

/** @defgroup comp_enums Enumerations and their wire words
 *
 *	Every enumeration has a `_name()` returning its lower_snake_case wire
 *	word (a static string; NULL for a value with no word, e.g. *_UNSET or
 *	out of range) and a `_parse()` taking a word (exact, case-sensitive
 *	match, as in complaint_rules.h: "Fire" and "fire " are refused) and
 *	returning 0, or -EINVAL for NULL or an unknown word (the output is
 *	then left untouched). The value 0 of an input enumeration is *_UNSET and
 *	is refused by comp_assess(), so a field left zero is caught rather than
 *	silently taken as some default.
 *	@{
 */

/** How the goods were packed (waybill fact). */
enum comp_packaging {
	COMP_PACKAGING_UNSET = 0,
	COMP_PACKAGING_ORIGINAL_FACTORY, /**< "original_factory": the maker's own packing */
	COMP_PACKAGING_CARRIER,          /**< "carrier": packed by our staff */
	COMP_PACKAGING_SENDER_OWN,       /**< "sender_own": packed by the sender */
	COMP_PACKAGING_BARE,             /**< "bare": sent without packing */
};

/** What the customer claims for. */
enum comp_claim_type {
	COMP_CLAIM_UNSET = 0,
	COMP_CLAIM_DELAY,                   /**< "delay": late delivery; the fee is waived */
	COMP_CLAIM_LOSS,                    /**< "loss": the goods are lost (also a completely delayed parcel claimed as lost) */
	COMP_CLAIM_DAMAGE_TOTAL,            /**< "damage_total": destroyed; paid as loss */
	COMP_CLAIM_DAMAGE_PARTIAL,          /**< "damage_partial": pays the share of value lost */
	COMP_CLAIM_MISMATCH_DIFFERENT_ITEM, /**< "mismatch_different_item": another item arrived; paid as total damage */
	COMP_CLAIM_MISMATCH_SHORT,          /**< "mismatch_short": short quantity or weight; paid as partial damage */
};

/** The decisive cause of the loss, damage or delay, as assessed. Record
 *	the cause that decided the outcome: a flood that is force majeure is
 *	#COMP_CAUSE_FORCE_MAJEURE; rain through a leaking truck roof is
 *	#COMP_CAUSE_WATER. */
enum comp_cause {
	COMP_CAUSE_UNSET = 0,
	COMP_CAUSE_COLLISION,          /**< "collision": collision or overturn of the vehicle (clause B peril) */
	COMP_CAUSE_FIRE,               /**< "fire": fire or explosion (clause B peril) */
	COMP_CAUSE_THEFT,              /**< "theft": theft or robbery (clause B peril) */
	COMP_CAUSE_WATER,              /**< "water": water damage, rain, flood (clause B peril) */
	COMP_CAUSE_HANDLING,           /**< "handling": dropped, crushed, missorted in our handling */
	COMP_CAUSE_IMPROPER_PACKAGING, /**< "improper_packaging": the packing did not protect the goods */
	COMP_CAUSE_NATURE_OF_GOODS,    /**< "nature_of_goods": inherent vice or reasonable natural wastage */
	COMP_CAUSE_FORCE_MAJEURE,      /**< "force_majeure": unforeseeable, unavoidable, insurmountable */
	COMP_CAUSE_UNKNOWN,            /**< "unknown": not established */
};

/** Whose fault the loss is, as found by the assessor. The carrier is liable
 *	for loss during carriage unless an exemption applies, so "none" and an
 *	unknown cause still leave us liable. */
enum comp_fault {
	COMP_FAULT_UNSET = 0,
	COMP_FAULT_OURS,     /**< "ours": our network, including a sub-carrier we engaged */
	COMP_FAULT_SENDER,   /**< "sender": the sender (exempts us) */
	COMP_FAULT_RECEIVER, /**< "receiver": the receiver (exempts us) */
	COMP_FAULT_NONE,     /**< "none": nobody's fault established */
};

/** Outcome toward the customer. */
enum comp_decision {
	COMP_DECISION_LIABLE = 0, /**< "liable": we owe comp_result::owed_fen (may be 0, e.g. zero fee) */
	COMP_DECISION_EXEMPT,     /**< "exempt": an exemption of the rules applies; nothing owed */
	/** "refused": no longer given by the engine (a clean signature is
	 *	evidence, not a bar: #COMP_REASON_SIGNED_WITHOUT_REMARKS); kept so
	 *	that assessments stored by earlier versions still read. */
	COMP_DECISION_REFUSED,
};

/** Insurance clause of the cargo policy that applies. */
enum comp_clause {
	COMP_CLAUSE_NONE = 0, /**< "none": waybill not insured, no insurer behind it */
	COMP_CLAUSE_A,        /**< "a": all risks */
	COMP_CLAUSE_B,        /**< "b": named perils only (collision, fire, theft, water) */
};

/** Who may approve the payment. Ordered: a higher value is a higher level. */
enum comp_authority {
	COMP_AUTHORITY_ADJUSTER = 0, /**< "adjuster" */
	COMP_AUTHORITY_SUPERVISOR,   /**< "supervisor" */
	COMP_AUTHORITY_MANAGER,      /**< "manager" */
};

/** Why the engine decided as it did. comp_result::reasons holds the codes
 *	about the customer, comp_insurer::reasons those about the insurer. Every
 *	applicable reason is listed, not only the first, in the order below.
 *	Each code has one effect, given in brackets. */
enum comp_reason {
	/* Toward the customer. */
	COMP_REASON_FORCE_MAJEURE = 1,      /**< "force_majeure" [exempts] an uninsured parcel; not an insured one, nor when our fault contributed */
	COMP_REASON_NATURE_OF_GOODS,        /**< "nature_of_goods" [exempts]; not when our fault contributed */
	COMP_REASON_SENDER_FAULT,           /**< "sender_fault" [exempts] */
	COMP_REASON_RECEIVER_FAULT,         /**< "receiver_fault" [exempts] */
	COMP_REASON_IMPROPER_PACKAGING,     /**< "improper_packaging" [exempts]: the sender packed it, not we, and no fault of ours found */
	COMP_REASON_PACKAGING_ADVICE_IGNORED, /**< "packaging_advice_ignored" [exempts]: with improper packaging, our staff had advised better */
	COMP_REASON_OVER_LIMIT_UNDECLARED,  /**< "over_limit_undeclared" [exempts]: a piece over the weight or size limit, not declared */
	COMP_REASON_FALSE_DESCRIPTION,      /**< "false_description" [limits]: not liable beyond the declared value (goods claims) */
	COMP_REASON_PROHIBITED_GOODS,       /**< "prohibited_goods" [exempts]; no ex gratia either */
	COMP_REASON_SIGNED_WITHOUT_REMARKS, /**< "signed_without_remarks" [weighs against]: damage or shortage claim after a clean signature by the consignee, proof at hand; the decision needs a supervisor */
	COMP_REASON_INDIRECT_LOSS,          /**< "indirect_loss" [limits]: the indirect part of the claim is never paid */
	/* Toward the insurer. */
	COMP_REASON_DELAY_NOT_COVERED,      /**< "delay_not_covered" [excludes]: the policy covers loss of and damage to goods */
	COMP_REASON_PERIL_NOT_NAMED,        /**< "peril_not_named" [excludes]: clause B and the cause is not a named peril */
	COMP_REASON_EXCLUDED_IMPROPER_PACKAGING, /**< "excluded_improper_packaging" [excludes], whoever packed */
	COMP_REASON_EXCLUDED_OVER_LIMIT_UNDECLARED, /**< "excluded_over_limit_undeclared" [excludes] */
	COMP_REASON_EXCLUDED_INHERENT_VICE, /**< "excluded_inherent_vice" [excludes]: cause nature_of_goods */
	COMP_REASON_EXCLUDED_INTENTIONAL_ACT, /**< "excluded_intentional_act" [excludes] */
	COMP_REASON_EXCLUDED_INDIRECT_LOSS, /**< "excluded_indirect_loss" [limits]: the direct loss stays covered */
};

/** What a step of the computation carries. */
enum comp_step_kind {
	COMP_STEP_FINDING = 0, /**< "finding": a fact or rule applied; no figure */
	COMP_STEP_AMOUNT,      /**< "amount": comp_step::amount_fen */
	COMP_STEP_RATIO,       /**< "ratio": comp_step::numerator / comp_step::denominator */
};

const char *comp_packaging_name(enum comp_packaging packaging);
int comp_packaging_parse(const char *word, enum comp_packaging *packaging);
const char *comp_claim_type_name(enum comp_claim_type type);
int comp_claim_type_parse(const char *word, enum comp_claim_type *type);
const char *comp_cause_name(enum comp_cause cause);
int comp_cause_parse(const char *word, enum comp_cause *cause);
const char *comp_fault_name(enum comp_fault fault);
int comp_fault_parse(const char *word, enum comp_fault *fault);
const char *comp_decision_name(enum comp_decision decision);
int comp_decision_parse(const char *word, enum comp_decision *decision);
const char *comp_clause_name(enum comp_clause clause);
int comp_clause_parse(const char *word, enum comp_clause *clause);
const char *comp_authority_name(enum comp_authority authority);
int comp_authority_parse(const char *word, enum comp_authority *authority);
const char *comp_reason_name(enum comp_reason reason);
int comp_reason_parse(const char *word, enum comp_reason *reason);
const char *comp_step_kind_name(enum comp_step_kind kind);
int comp_step_kind_parse(const char *word, enum comp_step_kind *kind);

/** @brief A sentence for a claims supervisor, e.g. "exempt: force majeure".
 *	@return A static string, or NULL for a value that is not a reason. */
const char *comp_reason_text(enum comp_reason reason);
/** @} */

/** @defgroup comp_config Configuration
 *	Every figure of the claim rules (docs/compensation.md) is a field here.
 *	comp_config_from_options() fills it from the daemon's options, whose
 *	defaults (daemon/core/options.def) comp_config_default() gives; the
 *	claim module builds it once at start and checks it with
 *	comp_config_validate().
 *	@{
 */
struct comp_config {
	/** Deducted from each insured goods claim paid to the customer, fen
	 *	(option claim_deductible_fen). Not applied to delay claims. */
	int64_t deductible_fen;
	/** Deducted by the cargo insurer from what it pays us, per claim, fen.
	 *	A separate figure because it is in our policy, not in our tariff;
	 *	the two may drift apart. */
	int64_t insurer_deductible_fen;
	/** Uninsured waybill: the contract cap of our carriage terms, at most
	 *	this many times the service fee, unless the customer's contract
	 *	sets its own (comp_waybill::contract_fee_multiple). A contract
	 *	term, not law. 0 .. #COMP_MAX_FEE_MULTIPLE. */
	int64_t uninsured_fee_multiple;
	/** Clause B applies to used goods with a piece worth MORE than this
	 *	(not equal), fen, not in original factory packaging. */
	int64_t clause_b_piece_value_fen;
	/** An adjuster approves a payment up to and including this, fen
	 *	(option authority_handler_fen, shared with complaints). */
	int64_t adjuster_limit_fen;
	/** A supervisor approves up to and including this, fen; above it a
	 *	manager (option authority_supervisor_fen). Not below adjuster_limit_fen. */
	int64_t supervisor_limit_fen;
	/** Lowest level that may approve any ex-gratia payment.
	 *	#COMP_AUTHORITY_SUPERVISOR (rules: "always needs a supervisor"). */
	enum comp_authority ex_gratia_min_authority;
};

struct config;
/** @brief Fill @p config from the daemon's options @p opt. */
void comp_config_from_options(const struct config *opt, struct comp_config *config);
/** @brief Fill @p config from the options' defaults. */
void comp_config_default(struct comp_config *config);

/** @brief Check a configuration.
 *	@param[in] config The configuration to check.
 *	@param[out] invalid_field If not NULL, set to the name of the first bad
 *	field (e.g. "config.supervisor_limit_fen"), or NULL when valid.
 *	@return 0 if valid, -EINVAL if an amount is negative or above
 *	#COMP_MAX_AMOUNT_FEN, the multiple is outside 0 ..
 *	#COMP_MAX_FEE_MULTIPLE, the supervisor limit is below the adjuster
 *	limit, or the ex-gratia level is not an authority. */
int comp_config_validate(const struct comp_config *config, const char **invalid_field);
/** @} */

/** @defgroup comp_inputs Inputs
 *	Plain structs the claim handler fills from the store. They are the
 *	engine's own (not the store's `struct waybill`), so the engine does not
 *	depend on how records are stored. All amounts are fen, 0 ..
 *	#COMP_MAX_AMOUNT_FEN.
 *	@{
 */

/** What the waybill says (facts recorded at acceptance and delivery). */
struct comp_waybill {
	/** Service fee of this waybill, fen, without the insurance premium.
	 *	Waived on delay; times the multiple caps an uninsured claim. */
	int64_t fee_fen;
	/** Value declared by the sender for the whole waybill, fen. For an
	 *	insured waybill, the insured value (must then be above 0). */
	int64_t declared_value_fen;
	/** The sender paid the premium on the declared value. An insured
	 *	parcel is paid despite force majeure. */
	bool insured;
	/** Number of pieces, at least 1. Informational; checked only. */
	int32_t pieces;
	/** Value of the most valuable piece, fen, for the clause B test. 0 =
	 *	not recorded: the whole declared value is then taken as one piece's
	 *	value, the worst case (one piece may hold it all). */
	int64_t max_piece_value_fen;
	/** The goods are used (second-hand). */
	bool used_goods;
	/** How the goods were packed. Required. */
	enum comp_packaging packaging;
	/** A piece is over the weight or size limit. */
	bool over_limit;
	/** The sender declared the over-limit piece at acceptance. */
	bool over_limit_declared;
	/** The goods were described falsely at acceptance. */
	bool goods_described_falsely;
	/** The goods are prohibited from carriage. */
	bool prohibited_goods;
	/** A delivery scan with a signature exists. The three fields below
	 *	are read only when this is true. */
	bool delivered;
	/** The signer was the consignee or a person the consignee authorised. */
	bool signer_is_consignee;
	/** The signer noted damage or shortage when signing. */
	bool signed_with_remarks;
	/** We can produce the signed proof of delivery. */
	bool proof_of_delivery_available;
	/** Contract customer's lateness discount, basis points of the fee
	 *	(0 .. 10000). 0 = no contract discount: the whole fee is waived.
	 *	Otherwise the discount replaces the waiver. */
	int32_t lateness_discount_bp;
	/** lateness_discount_bp was set for this claim (by a supervisor), not
	 *	read from the customer's contract: the steps name it so. With 0,
	 *	the contract's discount was set aside and the whole fee is waived. */
	bool lateness_discount_for_claim;
	/** The customer's contract sets the uninsured cap: contract_fee_multiple
	 *	replaces config uninsured_fee_multiple. False: our carriage terms. */
	bool contract_fee_multiple_set;
	/** The contract's multiple, 0 .. #COMP_MAX_FEE_MULTIPLE; read only when
	 *	contract_fee_multiple_set. */
	int64_t contract_fee_multiple;
};

/** What the customer asks for. */
struct comp_claim {
	/** Required. */
	enum comp_claim_type type;
	/** Everything the customer claims, fen, above 0, including any
	 *	indirect loss (see comp_assessment::indirect_loss_fen). Nothing paid
	 *	ever exceeds it. */
	int64_t claimed_fen;
	/** Ex-gratia amount the desk proposes on top of what the rules owe,
	 *	fen; 0 = none. Needs at least config ex_gratia_min_authority. */
	int64_t ex_gratia_fen;
};

/** What the assessor established. */
struct comp_assessment {
	/** Direct loss in value of the goods, fen. Loss, total damage, different
	 *	item: the value of the goods lost (invoice or proof of value). Partial
	 *	damage, short: the repair cost or depreciation, or the value missing.
	 *	Ignored for a delay claim. Not above real_value_fen when that is set. */
	int64_t actual_loss_fen;
	/** Real value of the whole consignment, fen, from proof of value. 0 =
	 *	not established: no under-insurance ratio is then applied (it is for
	 *	us to prove the goods were worth more than declared). */
	int64_t real_value_fen;
	/** Decisive cause. Required. */
	enum comp_cause cause;
	/** Whose fault. Required. "ours" blocks the cause exemptions (force
	 *	majeure, nature of goods, improper packaging). */
	enum comp_fault fault;
	/** Our staff advised the sender to pack better at acceptance. */
	bool staff_advised_packaging;
	/** The loss was caused deliberately by us or by the sender (the
	 *	policy's "intentional act of the insured"; excludes the insurer). */
	bool intentional_act;
	/** An outside party (not a depot of ours, not the sender or receiver)
	 *	caused the loss and can be pursued, e.g. the other driver in a
	 *	collision. With a sub-carrier at fault this is implied. */
	bool third_party_liable;
	/** Part of claimed_fen that is indirect loss (lost profit, penalties
	 *	owed to others, market loss), fen, not above claimed_fen. Never paid. */
	int64_t indirect_loss_fen;
	/** Depot that accepted the parcel and settles with the customer. Required,
	 *	NUL-terminated, 1 .. #COMP_DEPOT_CODE_MAX_BYTES bytes. */
	const char *accepting_depot;
	/** Depot where the fault happened (for a sub-carrier at fault, the depot
	 *	that engaged it). NULL or "" = not established: the accepting depot
	 *	bears the loss until it is. */
	const char *responsible_depot;
	/** The fault happened at a sub-carrier. Requires fault "ours" (toward the
	 *	customer a sub-carrier is us) and a sub_carrier name. */
	bool sub_carrier_at_fault;
	/** Sub-carrier name, UTF-8, up to #COMP_SUB_CARRIER_NAME_MAX_BYTES bytes;
	 *	read only when sub_carrier_at_fault. */
	const char *sub_carrier;
	/** The responsible depot has a contract with the sub-carrier, so it
	 *	can recover from it. */
	bool sub_carrier_has_contract;
	/** A supervisor set the uninsured contract cap aside for this claim:
	 *	the customer proved a higher loss, which is then paid (still never
	 *	more than claimed). Who and why are the caller's record. Only for
	 *	an uninsured goods claim (-EINVAL otherwise). */
	bool cap_set_aside;
};
/** @} */

/** @defgroup comp_outputs Result
 *	@{
 */

/** One line of the computation, in the order performed. */
struct comp_step {
	enum comp_step_kind kind;
	/** What this line is, e.g. "limit: declared value". Static string. */
	const char *label;
	/** #COMP_STEP_AMOUNT: the figure, fen. 0 otherwise. */
	int64_t amount_fen;
	/** #COMP_STEP_RATIO: numerator and denominator (denominator above 0).
	 *	0 otherwise. */
	int64_t numerator;
	int64_t denominator;
	/** Why, or which rule, in words a customer may read (no internal
	 *	references). Never NULL. Static, except the contract cap's note,
	 *	which points at comp_result::cap_note of the same result. */
	const char *note;
};

/** An ordered list of steps. */
struct comp_steps {
	struct comp_step items[COMP_MAX_STEPS];
	size_t count;
};

/** An ordered list of reason codes, each at most once. */
struct comp_reasons {
	enum comp_reason items[COMP_MAX_REASONS];
	size_t count;
};

/** What the cargo insurer pays us back. Computed separately from what the
 *	customer is owed: the customer is paid by the rules even when the
 *	insurer refuses. */
struct comp_insurer {
	/** #COMP_CLAUSE_NONE for an uninsured waybill. */
	enum comp_clause clause;
	/** Why this clause, static sentence. */
	const char *clause_note;
	/** The loss is covered by the clause and no exclusion applies. Always
	 *	false for an uninsured waybill. */
	bool covered;
	/** Exclusions and limits found (codes from COMP_REASON_DELAY_NOT_COVERED
	 *	on). Empty when covered without limits, and for an uninsured waybill. */
	struct comp_reasons reasons;
	/** What the insurer pays us, fen: the covered loss with the same caps,
	 *	minus config insurer_deductible_fen, never below 0, and never more
	 *	than comp_result::owed_fen (the insurer makes good what we owe under
	 *	the rules; ex gratia is our own gift and not covered). 0 when not
	 *	covered. */
	int64_t pays_fen;
	/** After paying, the insurer takes over our claim against a third party
	 *	(a sub-carrier at fault, or comp_assessment::third_party_liable). Only
	 *	when pays_fen is above 0. */
	bool subrogation;
	/** The insurer's computation, line by line. */
	struct comp_steps steps;
};

/** Who bears the loss inside the network. */
struct comp_network {
	/** Accepting depot: pays the customer. */
	char paying_depot[COMP_DEPOT_CODE_MAX_BYTES + 1];
	/** comp_result::payable_fen, paid by paying_depot. */
	int64_t paid_to_customer_fen;
	/** Responsible depot when it differs from the accepting depot; "" when
	 *	they are the same or the responsible depot is not established. */
	char reimbursing_depot[COMP_DEPOT_CODE_MAX_BYTES + 1];
	/** What reimbursing_depot pays paying_depot: the amount owed under the
	 *	rules, in full. Ex gratia stays with the paying depot, whose decision
	 *	it was. 0 when reimbursing_depot is "". */
	int64_t reimbursement_fen;
	/** Depot that finally bears the owed amount: the responsible depot, or
	 *	the accepting depot when none is established. */
	char bearing_depot[COMP_DEPOT_CODE_MAX_BYTES + 1];
	/** Sub-carrier at fault, copied from the assessment; "" when none. */
	char sub_carrier[COMP_SUB_CARRIER_NAME_MAX_BYTES + 1];
	/** The bearing depot is expected to recover from the sub-carrier under
	 *	its contract (sub-carrier at fault, contract, something left to
	 *	recover after the insurer's share). */
	bool sub_carrier_recovery_expected;
	/** Amount the bearing depot recovers from the sub-carrier: owed minus
	 *	what the insurer pays (the insurer recovers its own share by
	 *	subrogation). 0 unless sub_carrier_recovery_expected. */
	int64_t sub_carrier_recovery_fen;
	/** What the bearing depot is left with: owed - insurer pays - expected
	 *	sub-carrier recovery. Without a contract it bears the sub-carrier's
	 *	share itself. If a recovery later fails, the depot bears it; the
	 *	claim's recovery records track that, not this engine. */
	int64_t bearing_depot_net_fen;
};

/** Everything comp_assess() decides. */
struct comp_result {
	enum comp_decision decision;
	/** Every reason that shaped the decision toward the customer. */
	struct comp_reasons reasons;
	/** Owed under the rules, fen. 0 when exempt or refused. */
	int64_t owed_fen;
	/** Ex gratia granted on top, fen: the proposal, limited so that
	 *	owed + ex gratia never exceeds the amount claimed; 0 for prohibited
	 *	goods. */
	int64_t ex_gratia_fen;
	/** owed_fen + ex_gratia_fen: what the customer is paid. */
	int64_t payable_fen;
	/** Part of owed_fen that is the service fee refunded on a loss (total
	 *	damage, different item): on top of the compensation, so it is the
	 *	one part of a payment that may take it past the amount claimed. */
	int64_t fee_refund_fen;
	/** Text of the contract cap step, e.g. "contract cap (our carriage
	 *	terms): 3 x the fee"; "" when no cap applied. A step's note points
	 *	here, so use the steps of this result, not of a copy of it. */
	char cap_note[80];
	/** The customer-side computation, line by line: findings, then figures,
	 *	then ex gratia, then the approval needed. */
	struct comp_steps steps;
	struct comp_insurer insurer;
	struct comp_network network;
	/** Lowest level that may approve payable_fen (with ex gratia, at least
	 *	config ex_gratia_min_authority; with a finding against the claim,
	 *	such as a clean signature, at least a supervisor, who decides to
	 *	pay, partly pay or refuse). */
	enum comp_authority authority;
	/** When comp_assess() returns -EINVAL: the first bad input, e.g.
	 *	"claim.claimed_fen". NULL on success. Static string. */
	const char *invalid_field;
};

/** @brief Assess a claim under the rules of docs/compensation.md.
 *
 *	Checks every exemption and refusal (all are listed, not only the
 *	first), computes the amount the rules give, the amount owed, ex gratia,
 *	the insurer's share, who bears the loss and who must approve. See
 *	docs/compensation.md for worked examples.
 *
 *	Precedence: any exemption makes the decision "exempt"; otherwise
 *	"liable". Limits (false description, indirect loss) never change the
 *	decision, only the amount; a finding against the claim (a clean
 *	signature) changes neither, only who decides.
 *
 *	@param[in] config Figures of the rules; validated here as well.
 *	@param[in] waybill Facts of the waybill.
 *	@param[in] claim What the customer asks.
 *	@param[in] assessment What the assessor established.
 *	@param[out] result Filled in full (zeroed first). On error only
 *	result->invalid_field is meaningful.
 *	@return 0 on success, or -EINVAL when an input is invalid: a NULL
 *	pointer, an amount below 0 or above #COMP_MAX_AMOUNT_FEN, an *_UNSET or
 *	unknown enumeration value, claimed_fen of 0, pieces below 1, an insured
 *	waybill with no declared value, a lateness discount above 10000 bp,
 *	actual loss above an established real value, indirect loss above the
 *	claim, a missing or too long depot code, a sub-carrier at fault without
 *	a name or with a fault other than "ours", a contract multiple above
 *	#COMP_MAX_FEE_MULTIPLE, a cap set aside on an insured or delay claim, or
 *	an invalid config.
 *	result->invalid_field names the field (when result is not NULL).
 */
int comp_assess(const struct comp_config *config, const struct comp_waybill *waybill,
		const struct comp_claim *claim, const struct comp_assessment *assessment,
		struct comp_result *result);

/** @brief Lowest level that may approve a payment.
 *	@param[in] config Authority limits (assumed valid).
 *	@param[in] payable_fen Total paid to the customer, ex gratia included.
 *	@param[in] ex_gratia The payment includes ex gratia.
 *	@return Adjuster up to and including adjuster_limit_fen, supervisor up
 *	to and including supervisor_limit_fen, manager above; with ex gratia at
 *	least config->ex_gratia_min_authority. */
enum comp_authority comp_authority_required(const struct comp_config *config,
		int64_t payable_fen, bool ex_gratia);
/** @} */

#endif /* PARCELDESK_COMPENSATION_H */
