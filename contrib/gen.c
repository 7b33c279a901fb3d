/* gen.c — synthetic waybills with their tracking history, for demos, tests
 * and load measurements.
 *
 * Writes text protocol request lines on stdout: for each waybill one
 * `WAYBILL CREATE <number> ...` line, then its `SCAN <number> <event> ...`
 * lines in an order the state machine accepts (waybill_rules.c), with times
 * that only move forward. Every time carries an explicit +08:00 offset and
 * the waybill carries created_at=, so the history is in the past when the
 * daemon (or contrib/import) applies it.
 *
 * Seeded: the output is a function of the options. Each waybill draws from
 * its own random stream (seed, index), so --waybills 10 prints the first ten
 * waybills of --waybills 1000. The one input that is not an option is the
 * wall clock: scans that would lie in the future are left out (the daemon
 * refuses them), so a window that ends in the last couple of weeks yields
 * parcels still on their way. Give --as-of to pin that too.
 *
 *   build/contrib/gen --seed 7 --waybills 2000 > waybills.txt
 *   build/contrib/gen --start-date 2026-11-20 --days 5 | build/contrib/import --data-dir DIR -
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

#define ZONE_OFFSET_SECS (8 * 3600) /* times are written as +08:00 */
#define HOUR_SECS 3600
#define DAY_SECS 86400
#define MAX_EVENTS 40
#define MAX_DEPOTS 99
#define ROUTE_FACTOR 1.25 /* road distance over great-circle distance */

/* ---- random numbers: splitmix64, one stream per waybill ---- */

struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	struct rng mix = { seed ^ 0x6a09e667f3bcc908ULL };
	r->state = rng_next(&mix) ^ (stream * 0xd1b54a32d192ed03ULL);
	rng_next(r);
}

/* Uniform in [0, n). */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return hi <= lo ? lo : lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static int rng_percent(struct rng *r, double pct)
{
	return rng_unit(r) * 100.0 < pct;
}

#define PICK(r, arr) ((arr)[rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- reference data ---- */

struct city {
	const char *code, *name, *name_cn;
	double lat, lon;
	const char *district[3];
	const char *road[3]; /* one main road in each district */
};

/* The depots are taken from this list in order: SH01, BJ02, GZ03 ... */
static const struct city cities[] = {
	{ "SH", "Shanghai", "上海市", 31.23, 121.47, { "浦东新区", "徐汇区", "静安区" }, { "世纪大道", "漕溪北路", "南京西路" } },
	{ "BJ", "Beijing", "北京市", 39.90, 116.41, { "朝阳区", "海淀区", "东城区" }, { "建国路", "中关村大街", "东四北大街" } },
	{ "GZ", "Guangzhou", "广州市", 23.13, 113.26, { "天河区", "越秀区", "海珠区" }, { "天河路", "中山五路", "江南大道中" } },
	{ "SZ", "Shenzhen", "深圳市", 22.54, 114.06, { "南山区", "福田区", "宝安区" }, { "深南大道", "科苑路", "新安六路" } },
	{ "HZ", "Hangzhou", "杭州市", 30.27, 120.16, { "西湖区", "上城区", "滨江区" }, { "文三路", "延安路", "江南大道" } },
	{ "NJ", "Nanjing", "南京市", 32.06, 118.80, { "玄武区", "鼓楼区", "秦淮区" }, { "中山路", "北京西路", "太平南路" } },
	{ "CD", "Chengdu", "成都市", 30.57, 104.07, { "锦江区", "武侯区", "高新区" }, { "春熙路", "人民南路", "天府大道" } },
	{ "WH", "Wuhan", "武汉市", 30.59, 114.31, { "江汉区", "武昌区", "洪山区" }, { "解放大道", "中南路", "珞喻路" } },
	{ "XA", "Xi'an", "西安市", 34.34, 108.94, { "雁塔区", "碑林区", "未央区" }, { "长安南路", "南大街", "未央路" } },
	{ "CQ", "Chongqing", "重庆市", 29.56, 106.55, { "渝中区", "江北区", "南岸区" }, { "民族路", "建新北路", "南坪西路" } },
	{ "TJ", "Tianjin", "天津市", 39.13, 117.20, { "和平区", "河西区", "南开区" }, { "南京路", "友谊路", "鞍山西道" } },
	{ "SU", "Suzhou", "苏州市", 31.30, 120.59, { "姑苏区", "工业园区", "吴中区" }, { "人民路", "星湖街", "东吴北路" } },
	{ "CS", "Changsha", "长沙市", 28.23, 112.94, { "芙蓉区", "岳麓区", "天心区" }, { "五一大道", "麓山南路", "芙蓉中路" } },
	{ "ZZ", "Zhengzhou", "郑州市", 34.75, 113.62, { "金水区", "二七区", "中原区" }, { "花园路", "大学路", "建设西路" } },
	{ "QD", "Qingdao", "青岛市", 36.07, 120.38, { "市南区", "崂山区", "李沧区" }, { "香港中路", "海尔路", "京口路" } },
	{ "XM", "Xiamen", "厦门市", 24.48, 118.09, { "思明区", "湖里区", "集美区" }, { "厦禾路", "仙岳路", "杏林湾路" } },
	{ "SY", "Shenyang", "沈阳市", 41.81, 123.43, { "和平区", "沈河区", "浑南区" }, { "太原街", "青年大街", "浑南东路" } },
	{ "KM", "Kunming", "昆明市", 24.88, 102.83, { "五华区", "盘龙区", "官渡区" }, { "人民中路", "北京路", "春城路" } },
	{ "HF", "Hefei", "合肥市", 31.82, 117.23, { "蜀山区", "包河区", "庐阳区" }, { "长江西路", "徽州大道", "阜阳路" } },
	{ "FZ", "Fuzhou", "福州市", 26.07, 119.30, { "鼓楼区", "台江区", "仓山区" }, { "五四路", "八一七中路", "首山路" } },
};
#define CITY_COUNT (sizeof(cities) / sizeof(cities[0]))

static const char *const surnames[] = {
	"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu",
	"Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin",
	"Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng",
	"Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai",
	"Jiang", "Yu", "Du", "Ye", "Cheng", "Wei", "Su", "Lu", "Ding", "Shen",
};

static const char *const given_names[] = {
	"Wei", "Fang", "Xiuying", "Na", "Min", "Jing", "Li", "Qiang", "Lei",
	"Jun", "Yang", "Yong", "Yan", "Jie", "Juan", "Tao", "Ming", "Chao",
	"Xiuzhen", "Xia", "Ping", "Gang", "Hua", "Hui", "Yuxuan", "Zihan",
	"Haoran", "Yutong", "Xinyi", "Jiahao", "Zhiqiang", "Guiying", "Dan",
	"Lan", "Bo", "Hong", "Yue", "Shuang", "Xin", "Peng", "Kai", "Mengyao",
	"Siyu", "Yichen", "Zhen", "Rui", "Qian", "Wenjing",
};

static const char *const compounds[] = {
	"阳光花园", "锦绣家园", "翠湖小区", "世纪花城", "金色家园", "华府名苑",
	"东方花园", "绿地新都会", "万科城", "碧桂园", "幸福里", "滨江苑",
};

static const char *const office_towers[] = {
	"国际大厦", "金融中心", "科技园", "商务广场", "创业大厦", "时代广场",
};

static const char *const shop_names[] = {
	"Lvye Tea", "Xingchen Electronics", "Meili Cosmetics", "Hongyun Books",
	"Jiahe Foods", "Tianyi Auto Parts", "Xiaoyu Toys", "Dongfang Apparel",
	"Jinlong Wine", "Kangjian Pharmacy", "Lanting Home Textiles", "Fengshou Fruit",
};

struct goods {
	const char *desc;
	int weight_min_g, weight_max_g;
	int value_min_yuan, value_max_yuan;
	int declare_pct;   /* how often a value is declared */
	int multi_pct;     /* how often it comes in several pieces */
	int used_pct;      /* second-hand goods */
};

static const struct goods goods_list[] = {
	{ "手机", 300, 700, 900, 8000, 85, 2, 10 },
	{ "iPhone 15 手机", 400, 650, 5000, 9000, 95, 1, 5 },
	{ "笔记本电脑", 1500, 3500, 3000, 15000, 90, 2, 8 },
	{ "衣服", 300, 2500, 50, 1500, 25, 15, 2 },
	{ "鞋子 两双", 1200, 3000, 200, 1500, 30, 5, 0 },
	{ "书籍", 500, 8000, 30, 600, 15, 20, 5 },
	{ "文件", 50, 600, 0, 0, 0, 3, 0 },
	{ "合同文件", 50, 300, 0, 0, 0, 0, 0 },
	{ "茶叶", 250, 3000, 100, 3000, 50, 15, 0 },
	{ "化妆品", 200, 1500, 100, 3000, 45, 10, 0 },
	{ "零食", 500, 5000, 30, 400, 10, 20, 0 },
	{ "生鲜水果", 2000, 10000, 50, 500, 20, 25, 0 },
	{ "电饭煲", 3000, 6000, 200, 1200, 60, 3, 5 },
	{ "汽车配件", 1000, 20000, 100, 5000, 55, 25, 10 },
	{ "儿童玩具", 300, 3000, 50, 800, 25, 10, 3 },
	{ "药品", 100, 1000, 50, 800, 40, 5, 0 },
	{ "机械键盘", 900, 1500, 200, 1500, 55, 2, 10 },
	{ "床上用品 四件套", 2000, 4000, 200, 1200, 30, 10, 0 },
	{ "白酒 2瓶", 2000, 3000, 300, 5000, 70, 5, 0 },
	{ "二手相机", 800, 2000, 1000, 8000, 90, 2, 100 },
};
#define GOODS_COUNT (sizeof(goods_list) / sizeof(goods_list[0]))

static const char *const fail_reasons[] = {
	"receiver not reachable by phone", "nobody at home", "receiver asked to deliver tomorrow",
	"address incomplete, called receiver", "company closed for the day",
	"access to the residential compound refused",
};

static const char *const return_reasons[] = {
	"refused by receiver", "receiver not reachable for three days",
	"wrong address, receiver unknown",
};

static const char *const delay_notes[] = {
	"delayed: heavy rain on the route", "delayed: sorting backlog",
	"delayed: missed the line-haul departure", "delayed: highway closed by fog",
	"delayed: flight cancelled, moved to road", "delayed: vehicle breakdown",
};

static const char *const hold_notes[] = {
	"receiver asked to hold at depot for pickup", "address incomplete, waiting for receiver",
	"receiver travelling, hold until return", "held for customs document check",
};

static const char *const damage_notes[] = {
	"outer carton crushed", "carton wet from rain", "corner of carton torn",
	"liquid leaking from parcel", "parcel dropped at unloading",
};

static const char *const damage_remarks[] = {
	"carton damaged, contents checked and intact", "carton crushed, one item broken",
	"parcel wet, contents damp", "outer packing torn, shortage of one item",
};

static const char *const lost_notes[] = {
	"not arrived at sort", "missing after unloading", "scan missing at transfer",
};

/* ---- options ---- */

struct options {
	uint64_t seed;
	uint64_t waybills;
	uint64_t start_number;
	char number_prefix[21], number_suffix[21];
	int number_width;
	int depots;
	double late_share, exception_share;
	int64_t start;      /* UTC of local midnight of --start-date */
	int days;
	int customers;
	double customer_share;
	double same_city_share;
	int64_t as_of;
	int req_tokens;
};

struct depot {
	char code[16]; /* city code and a number of up to 11 digits */
	const struct city *city;
};

static struct depot depots[MAX_DEPOTS];
static int depot_count;

struct customer {
	char account[16];
	char name[80];
	char phone[16];
	char address[192];
	int depot;
	int goods;
};

static struct customer *customer_list;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gen [options] > requests.txt\n"
		"Writes synthetic waybills and their tracking scans as parceldesk text requests.\n"
		"  --seed S              random seed (default 1); the same options give the same output\n"
		"  --waybills N          number of waybills (default 1000)\n"
		"  --start-number K      first waybill number (default 1)\n"
		"  --number-format F     printf-like pattern of digits and one %%0Nd (default %%012d)\n"
		"  --depots D            depots SH01 BJ02 GZ03 ... in up to 20 cities (default 10, max %d)\n"
		"  --late-share PCT      waybills delayed past their promise (default 8)\n"
		"  --exception-share PCT waybills with a failed delivery, hold, damage, loss or return (default 10)\n"
		"  --start-date DATE     first creation day, YYYY-MM-DD in +08:00 (default 2026-10-01)\n"
		"  --days N              creation days (default 30)\n"
		"  --customers N         monthly-payment customer accounts C000101 ... (default 50)\n"
		"  --customer-share PCT  waybills sent by those accounts (default 30)\n"
		"  --same-city-share PCT waybills delivered in the sender's city (default 25)\n"
		"  --as-of TIME          leave out scans after TIME (default: now; never later than now)\n"
		"  --req-tokens          give every line a req= token (gen-SEED-NUMBER-K), so that\n"
		"                        importing the same lines again writes nothing twice\n",
		MAX_DEPOTS);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		die("%s needs an integer from 0 to %llu, got '%s'", opt, (unsigned long long)max, s);
	return v;
}

static double parse_pct(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0 && v <= 100))
		die("%s needs a percentage from 0 to 100, got '%s'", opt, s);
	return v;
}

/* Digits, one %d or %0Nd, digits: "%012d", "%d", "77%010d". */
static void parse_number_format(struct options *o, const char *f)
{
	const char *pct = strchr(f, '%');
	if (!pct || (size_t)(pct - f) >= sizeof(o->number_prefix))
		die("--number-format needs one %%d or %%0Nd, got '%s'", f);
	memcpy(o->number_prefix, f, (size_t)(pct - f));
	o->number_prefix[pct - f] = '\0';
	const char *p = pct + 1;
	o->number_width = 0;
	if (*p == '0') {
		p++;
		while (*p >= '0' && *p <= '9')
			o->number_width = o->number_width * 10 + (*p++ - '0');
	}
	if (*p == 'l')
		p += p[1] == 'l' ? 2 : 1;
	if (*p != 'd' && *p != 'u')
		die("--number-format needs one %%d or %%0Nd, got '%s'", f);
	p++;
	if (strlen(p) >= sizeof(o->number_suffix))
		die("--number-format: suffix too long");
	strcpy(o->number_suffix, p);
	for (const char *q = o->number_prefix; *q; q++)
		if (*q < '0' || *q > '9')
			die("--number-format: a waybill number holds digits only");
	for (const char *q = o->number_suffix; *q; q++)
		if (*q < '0' || *q > '9')
			die("--number-format: a waybill number holds digits only");
}

static void format_number(const struct options *o, uint64_t n, char *out, size_t cap)
{
	snprintf(out, cap, "%s%0*llu%s", o->number_prefix, o->number_width,
		 (unsigned long long)n, o->number_suffix);
}

/* ---- time helpers (everything is UTC seconds; local is +08:00) ---- */

static int64_t local_secs_of_day(int64_t t)
{
	int64_t l = (t + ZONE_OFFSET_SECS) % DAY_SECS;
	return l < 0 ? l + DAY_SECS : l;
}

static int64_t local_day_start(int64_t t)
{
	return t - local_secs_of_day(t);
}

static void format_time(int64_t t, char buf[PD_TIME_BUF])
{
	time_t lt = (time_t)(t + ZONE_OFFSET_SECS);
	struct tm tm;
	gmtime_r(&lt, &tm);
	snprintf(buf, PD_TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The first moment at or after t within the local hours [from, to). */
static int64_t next_window(struct rng *r, int64_t t, int from_hour, int to_hour)
{
	int64_t day = local_day_start(t);
	int64_t open = day + from_hour * HOUR_SECS, close = day + to_hour * HOUR_SECS;
	if (t >= close) {
		open += DAY_SECS;
		close += DAY_SECS;
	}
	if (t < open)
		return rng_range(r, open, close - 1);
	return rng_range(r, t, close - 1);
}

/* The next delivery round after t: couriers go out in the morning
 * (07:00-11:00) and again in the afternoon (13:00-16:00). */
static int64_t next_round(struct rng *r, int64_t t)
{
	static const int rounds[2][2] = { { 7, 11 }, { 13, 16 } };
	int64_t day = local_day_start(t);
	for (int k = 0;; k++)
		for (int i = 0; i < 2; i++) {
			int64_t open = day + k * DAY_SECS + rounds[i][0] * HOUR_SECS;
			int64_t close = day + k * DAY_SECS + rounds[i][1] * HOUR_SECS;
			if (t < close)
				return rng_range(r, t > open ? t : open, close - 1);
		}
}

/* ---- the lifecycle of one parcel ---- */

struct event {
	const char *kind;
	int64_t at;
	int depot;
	const char *signer;
	int signer_is_consignee;
	const char *remarks, *reason, *note;
};

struct lifecycle {
	struct event ev[MAX_EVENTS];
	int count;
	char family_signer[48]; /* a relative who signed for the receiver */
};

static struct event *add_event(struct lifecycle *lc, const char *kind, int64_t at, int depot)
{
	if (lc->count >= MAX_EVENTS)
		die("internal: too many events");
	/* times never go back, whatever the draws said */
	if (lc->count && at <= lc->ev[lc->count - 1].at)
		at = lc->ev[lc->count - 1].at + 60;
	struct event *e = &lc->ev[lc->count++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->at = at;
	e->depot = depot;
	e->signer_is_consignee = -1;
	return e;
}

/* libm-free helpers: contrib tools link without -lm. */
static double square_root(double x)
{
	if (x <= 0)
		return 0;
	double g = x > 1 ? x : 1;
	for (int i = 0; i < 64; i++)
		g = 0.5 * (g + x / g);
	return g;
}

/* cos for |x| < 1.2 rad (latitudes of China) by its Taylor series */
static double cosine(double x)
{
	double x2 = x * x, term = 1, sum = 1;
	for (int k = 1; k < 10; k++) {
		term *= -x2 / ((2 * k - 1) * (2 * k));
		sum += term;
	}
	return sum;
}

/* Equirectangular distance: within a few percent at the scale of China. */
static double distance_km(const struct city *a, const struct city *b)
{
	if (a == b)
		return 0;
	const double rad = 3.14159265358979 / 180.0;
	double y = (b->lat - a->lat) * rad;
	double x = (b->lon - a->lon) * rad * cosine((a->lat + b->lat) / 2 * rad);
	return 6371.0 * square_root(x * x + y * y) * ROUTE_FACTOR;
}

/* Line-haul time: trucks up to ~1000 km, air freight beyond. */
static int64_t travel_secs(struct rng *r, double km)
{
	if (km < 1)
		return rng_range(r, HOUR_SECS, 3 * HOUR_SECS);
	if (km <= 1000)
		return (int64_t)(km / 65.0 * HOUR_SECS) + rng_range(r, HOUR_SECS / 2, 2 * HOUR_SECS);
	return rng_range(r, 6 * HOUR_SECS, 10 * HOUR_SECS);
}

/* The least travel_secs() can draw for a leg. */
static int64_t travel_min_secs(double km)
{
	if (km < 1)
		return HOUR_SECS;
	if (km <= 1000)
		return (int64_t)(km / 65.0 * HOUR_SECS) + HOUR_SECS / 2;
	return 6 * HOUR_SECS;
}

/* A sorting hub on the way when it adds little to the route. */
static int find_hub(struct rng *r, int o, int d)
{
	double direct = distance_km(depots[o].city, depots[d].city);
	int best = -1;
	double best_km = direct * 1.12;
	for (int h = 0; h < depot_count; h++) {
		if (depots[h].city == depots[o].city || depots[h].city == depots[d].city)
			continue;
		double km = distance_km(depots[o].city, depots[h].city) +
			    distance_km(depots[h].city, depots[d].city);
		if (km < best_km && rng_percent(r, 70)) {
			best = h;
			best_km = km;
		}
	}
	return best;
}

enum exception_kind { EXC_NONE, EXC_FAILED_RETRY, EXC_HELD, EXC_DAMAGED, EXC_LOST, EXC_RETURNED };

static enum exception_kind pick_exception(struct rng *r)
{
	uint64_t x = rng_below(r, 100);
	if (x < 35) return EXC_FAILED_RETRY;
	if (x < 50) return EXC_HELD;
	if (x < 65) return EXC_DAMAGED;
	if (x < 80) return EXC_LOST;
	return EXC_RETURNED;
}

struct parcel {
	int o, d;
	int64_t created, promised;
	const char *receiver_name;
	const char *receiver_surname;
	int late;
	enum exception_kind exc;
};

static void delivery(struct rng *r, struct lifecycle *lc, const struct parcel *p,
		     int64_t out_at, const char *remarks)
{
	struct event *e = add_event(lc, "out_for_delivery", out_at, p->d);
	/* the round ends by 19:30 */
	int64_t shift_end = local_day_start(e->at) + 19 * HOUR_SECS + 30 * 60;
	int64_t longest = shift_end - e->at < 6 * HOUR_SECS ? shift_end - e->at : 6 * HOUR_SECS;
	int64_t at = e->at + rng_range(r, 20 * 60, longest > 20 * 60 ? longest : 20 * 60);
	e = add_event(lc, "delivered", at, p->d);
	uint64_t who = rng_below(r, 100);
	if (who < 75) {
		e->signer = p->receiver_name;
		e->signer_is_consignee = 1;
	} else if (who < 85) {
		snprintf(lc->family_signer, sizeof(lc->family_signer), "%s %s", p->receiver_surname,
			 PICK(r, given_names));
		e->signer = lc->family_signer;
		e->signer_is_consignee = 0;
	} else if (who < 92) {
		e->signer = "reception desk";
		e->signer_is_consignee = 0;
	} else {
		e->signer = "Cainiao Station";
		e->signer_is_consignee = 0;
	}
	e->remarks = remarks;
}

/* The last mile from the arrival at the destination depot. */
static void last_mile(struct rng *r, struct lifecycle *lc, const struct parcel *p, int64_t arrived)
{
	int64_t out_at = next_round(r, arrived + HOUR_SECS);
	const char *remarks = NULL;
	switch (p->exc) {
	case EXC_DAMAGED: {
		struct event *e = add_event(lc, "damaged", arrived + rng_range(r, 600, 2 * HOUR_SECS), p->d);
		e->note = PICK(r, damage_notes);
		if (rng_percent(r, 65))
			remarks = PICK(r, damage_remarks);
		out_at = next_round(r, e->at + HOUR_SECS);
		break;
	}
	case EXC_HELD: {
		struct event *e = add_event(lc, "held", arrived + rng_range(r, HOUR_SECS, 4 * HOUR_SECS), p->d);
		e->note = PICK(r, hold_notes);
		out_at = next_window(r, e->at + rng_range(r, 12 * HOUR_SECS, 60 * HOUR_SECS), 8, 18);
		if (rng_percent(r, 40)) {
			/* the receiver comes to the counter */
			e = add_event(lc, "out_for_delivery", out_at, p->d);
			e->note = "self pickup at depot";
			struct event *d = add_event(lc, "delivered", e->at + rng_range(r, 120, 900), p->d);
			d->signer = p->receiver_name;
			d->signer_is_consignee = 1;
			return;
		}
		break;
	}
	case EXC_FAILED_RETRY: {
		int failures = rng_percent(r, 25) ? 2 : 1;
		for (int i = 0; i < failures; i++) {
			struct event *e = add_event(lc, "out_for_delivery", out_at, p->d);
			e = add_event(lc, "delivery_failed", e->at + rng_range(r, HOUR_SECS, 5 * HOUR_SECS), p->d);
			e->reason = PICK(r, fail_reasons);
			out_at = next_window(r, e->at + 8 * HOUR_SECS, 8, 11);
		}
		break;
	}
	case EXC_RETURNED: {
		struct event *e = add_event(lc, "out_for_delivery", out_at, p->d);
		e = add_event(lc, "delivery_failed", e->at + rng_range(r, HOUR_SECS, 5 * HOUR_SECS), p->d);
		e->reason = PICK(r, return_reasons);
		/* the sender is asked, and the depot sends it back in office hours */
		e = add_event(lc, "returning",
			      next_window(r, e->at + rng_range(r, 2 * HOUR_SECS, 48 * HOUR_SECS), 8, 20), p->d);
		e->note = "returned to sender";
		int64_t t = e->at;
		if (p->o != p->d) {
			e = add_event(lc, "departed", t + rng_range(r, HOUR_SECS, 8 * HOUR_SECS), p->d);
			double km = distance_km(depots[p->o].city, depots[p->d].city);
			e = add_event(lc, "arrived", e->at + travel_secs(r, km), p->o);
			t = e->at;
		}
		add_event(lc, "returned", next_window(r, t + HOUR_SECS, 9, 18), p->o);
		return;
	}
	default:
		break;
	}
	delivery(r, lc, p, out_at, remarks);
}

static void build_lifecycle(struct rng *r, struct lifecycle *lc, const struct parcel *p,
			    int is_account)
{
	lc->count = 0;
	int64_t t = p->created;
	/* accounts are collected in the late afternoon round; counter parcels
	 * are taken by a courier within hours, or next morning */
	if (is_account && local_secs_of_day(t) < 16 * HOUR_SECS)
		t = next_window(r, local_day_start(t) + 16 * HOUR_SECS, 16, 19);
	else if (local_secs_of_day(t) < 18 * HOUR_SECS)
		t += rng_range(r, 20 * 60, 3 * HOUR_SECS);
	else
		t = next_window(r, t, 8, 11);
	add_event(lc, "picked_up", t, p->o);
	struct event *e = add_event(lc, "arrived", t + rng_range(r, 30 * 60, 150 * 60), p->o);

	/* the line haul: origin -> [hub] -> destination */
	int legs[3] = { p->o, -1, -1 }, leg_count = 1;
	if (p->d != p->o) {
		double km = distance_km(depots[p->o].city, depots[p->d].city);
		int hub = km > 700 ? find_hub(r, p->o, p->d) : -1;
		if (hub >= 0)
			legs[leg_count++] = hub;
		legs[leg_count++] = p->d;
	}
	int delay_leg = p->late && leg_count > 1 ? (int)rng_below(r, (uint64_t)leg_count - 1) : -1;
	int lost_leg = p->exc == EXC_LOST && leg_count > 1 ? (int)rng_below(r, (uint64_t)leg_count - 1) : -1;
	int64_t arrived = e->at;
	for (int i = 0; i + 1 < leg_count; i++) {
		double km = distance_km(depots[legs[i]].city, depots[legs[i + 1]].city);
		int64_t depart = arrived + rng_range(r, HOUR_SECS, 5 * HOUR_SECS);
		const char *note = NULL;
		if (i == delay_leg) {
			/* held back until even the fastest rest of the route reaches
			 * the destination depot after the promise: the parcel is late */
			int64_t rest = travel_min_secs(km);
			for (int j = i + 1; j + 1 < leg_count; j++)
				rest += HOUR_SECS + travel_min_secs(distance_km(depots[legs[j]].city,
									       depots[legs[j + 1]].city));
			int64_t need = p->promised - depart - rest;
			depart += (need > 0 ? need : 0) + rng_range(r, 2 * HOUR_SECS, 60 * HOUR_SECS);
			note = PICK(r, delay_notes);
		}
		e = add_event(lc, "departed", depart, legs[i]);
		e->note = note;
		int64_t at = e->at + travel_secs(r, km);
		if (i == lost_leg) {
			e = add_event(lc, "lost", at + rng_range(r, 6 * HOUR_SECS, 48 * HOUR_SECS), legs[i + 1]);
			e->note = PICK(r, lost_notes);
			if (!rng_percent(r, 50))
				return; /* never found */
			e = add_event(lc, "found", e->at + rng_range(r, DAY_SECS, 5 * DAY_SECS), legs[i + 1]);
			e->note = "found in the sorting area";
			at = e->at;
			if (i + 2 < leg_count) {
				arrived = at;
				continue;
			}
			/* found at the destination: status is in_transit again */
			last_mile(r, lc, p, at);
			return;
		}
		e = add_event(lc, "arrived", at, legs[i + 1]);
		arrived = e->at;
	}
	if (p->late && leg_count == 1) {
		/* same depot: the parcel waits at the sort */
		int64_t need = p->promised - arrived;
		e->note = PICK(r, delay_notes);
		arrived += (need > 0 ? need : 0) + rng_range(r, 0, 30 * HOUR_SECS);
	}
	if (p->exc == EXC_LOST && leg_count == 1) {
		e = add_event(lc, "lost", arrived + rng_range(r, 2 * HOUR_SECS, 24 * HOUR_SECS), p->o);
		e->note = PICK(r, lost_notes);
		if (!rng_percent(r, 50))
			return;
		e = add_event(lc, "found", e->at + rng_range(r, DAY_SECS, 4 * DAY_SECS), p->o);
		e->note = "found in the sorting area";
		arrived = e->at;
	}
	last_mile(r, lc, p, arrived);
}

/* ---- output ---- */

static void put_value(FILE *out, const char *s)
{
	int plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\\' || *p == '=')
			plain = 0;
	if (plain) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static void put_arg(FILE *out, const char *key, const char *value)
{
	fprintf(out, " %s=", key);
	put_value(out, value);
}

static void put_int_arg(FILE *out, const char *key, long long v)
{
	fprintf(out, " %s=%lld", key, v);
}

static void put_time_arg(FILE *out, const char *key, int64_t t)
{
	char buf[PD_TIME_BUF];
	format_time(t, buf);
	fprintf(out, " %s=%s", key, buf);
}

/* ---- people and places ---- */

static void person_name(struct rng *r, char *out, size_t cap, const char **surname)
{
	const char *s = PICK(r, surnames);
	if (surname)
		*surname = s;
	snprintf(out, cap, "%s %s", s, PICK(r, given_names));
}

static void mobile_phone(struct rng *r, char *out, size_t cap)
{
	static const int prefixes[] = { 130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
					150, 151, 152, 153, 155, 156, 157, 158, 159,
					180, 181, 182, 183, 184, 185, 186, 187, 188, 189 };
	snprintf(out, cap, "%d%08llu", PICK(r, prefixes),
		 (unsigned long long)rng_below(r, 100000000));
}

static void street_address(struct rng *r, const struct city *c, char *out, size_t cap)
{
	/* road[i] lies in district[i] */
	uint64_t part = rng_below(r, 3);
	const char *district = c->district[part];
	const char *road = c->road[part];
	int no = (int)rng_range(r, 1, 999);
	if (rng_percent(r, 25))
		snprintf(out, cap, "%s%s%s%d号%s%d层", c->name_cn, district, road, no,
			 PICK(r, office_towers), (int)rng_range(r, 2, 38));
	else
		snprintf(out, cap, "%s%s%s%d号%s%d栋%d%02d室", c->name_cn, district, road, no,
			 PICK(r, compounds), (int)rng_range(r, 1, 30), (int)rng_range(r, 1, 33),
			 (int)rng_range(r, 1, 8));
}

static int depot_in_city(struct rng *r, const struct city *c)
{
	int found[MAX_DEPOTS], n = 0;
	for (int i = 0; i < depot_count; i++)
		if (depots[i].city == c)
			found[n++] = i;
	return found[rng_below(r, (uint64_t)n)];
}

static void make_customers(const struct options *o)
{
	customer_list = calloc((size_t)o->customers + 1, sizeof(*customer_list));
	if (!customer_list)
		die("out of memory");
	for (int i = 0; i < o->customers; i++) {
		struct rng r;
		rng_seed(&r, o->seed, 0xc0570000ULL + (uint64_t)i);
		struct customer *c = &customer_list[i];
		snprintf(c->account, sizeof(c->account), "C%06d", 101 + i);
		c->depot = (int)rng_below(&r, (uint64_t)depot_count);
		char contact[40];
		person_name(&r, contact, sizeof(contact), NULL);
		snprintf(c->name, sizeof(c->name), "%s (%s)", PICK(&r, shop_names), contact);
		mobile_phone(&r, c->phone, sizeof(c->phone));
		street_address(&r, depots[c->depot].city, c->address, sizeof(c->address));
		c->goods = (int)rng_below(&r, GOODS_COUNT);
	}
}

static void make_depots(const struct options *o)
{
	depot_count = o->depots;
	for (int i = 0; i < depot_count; i++) {
		depots[i].city = &cities[(size_t)i % CITY_COUNT];
		snprintf(depots[i].code, sizeof(depots[i].code), "%s%02d", depots[i].city->code, i + 1);
	}
}

/* Tariff: first kilo and each further kilo, by distance zone (fen). */
static int64_t fee_fen(double km, int64_t weight_g, int same_city)
{
	int64_t kilos = (weight_g + 999) / 1000;
	int64_t first, extra;
	if (same_city) {
		first = 1000; extra = 200;
	} else if (km <= 500) {
		first = 1200; extra = 400;
	} else if (km <= 1200) {
		first = 1500; extra = 700;
	} else {
		first = 2000; extra = 1000;
	}
	return first + (kilos > 1 ? (kilos - 1) * extra : 0);
}

static int promise_days(double km, int same_city)
{
	if (same_city)
		return 1;
	if (km <= 500)
		return 2;
	if (km <= 1200)
		return 3;
	return 4;
}

static void generate_waybill(FILE *out, const struct options *o, uint64_t index,
			     int64_t window_start, int64_t window_secs)
{
	struct rng r;
	rng_seed(&r, o->seed, index);
	char number[48];
	format_number(o, o->start_number + index, number, sizeof(number));

	/* who sends, from where */
	const struct customer *cust = NULL;
	if (o->customers > 0 && rng_percent(&r, o->customer_share))
		cust = &customer_list[rng_below(&r, (uint64_t)o->customers)];
	char sender_name[80], sender_phone[16], sender_address[192];
	int origin;
	const struct goods *g;
	if (cust) {
		snprintf(sender_name, sizeof(sender_name), "%s", cust->name);
		snprintf(sender_phone, sizeof(sender_phone), "%s", cust->phone);
		snprintf(sender_address, sizeof(sender_address), "%s", cust->address);
		origin = cust->depot;
		g = rng_percent(&r, 80) ? &goods_list[cust->goods] : &PICK(&r, goods_list);
	} else {
		person_name(&r, sender_name, sizeof(sender_name), NULL);
		mobile_phone(&r, sender_phone, sizeof(sender_phone));
		origin = (int)rng_below(&r, (uint64_t)depot_count);
		street_address(&r, depots[origin].city, sender_address, sizeof(sender_address));
		g = &PICK(&r, goods_list);
	}
	const struct city *oc = depots[origin].city;

	/* to whom, where */
	int dest;
	int other_cities = 0;
	for (int i = 0; i < depot_count; i++)
		other_cities += depots[i].city != oc;
	if (!other_cities || rng_percent(&r, o->same_city_share)) {
		dest = depot_in_city(&r, oc);
	} else {
		do
			dest = (int)rng_below(&r, (uint64_t)depot_count);
		while (depots[dest].city == oc);
	}
	const struct city *dc = depots[dest].city;
	char receiver_name[48], receiver_phone[16], receiver_address[192];
	const char *receiver_surname;
	person_name(&r, receiver_name, sizeof(receiver_name), &receiver_surname);
	mobile_phone(&r, receiver_phone, sizeof(receiver_phone));
	street_address(&r, dc, receiver_address, sizeof(receiver_address));

	/* what */
	int64_t pieces = rng_percent(&r, g->multi_pct) ? rng_range(&r, 2, 5) : 1;
	int64_t weight = pieces * rng_range(&r, g->weight_min_g, g->weight_max_g);
	weight = (weight + 9) / 10 * 10;
	int64_t declared = 0, max_piece = 0;
	int insured = 0, used = rng_percent(&r, g->used_pct);
	if (g->value_max_yuan > 0 && rng_percent(&r, g->declare_pct)) {
		declared = rng_range(&r, g->value_min_yuan, g->value_max_yuan) * pieces * 100;
		insured = rng_percent(&r, declared > 200000 ? 80 : 30);
		if (pieces > 1 && rng_percent(&r, 50))
			max_piece = declared / pieces + rng_range(&r, 0, declared / pieces / 2);
	}
	const char *packaging;
	uint64_t pk = rng_below(&r, 100);
	if (pk < 25) packaging = "original_factory";
	else if (pk < 65) packaging = "carrier";
	else if (pk < 95) packaging = "sender_own";
	else packaging = "bare";
	const char *service = "basic";
	uint64_t sl = rng_below(&r, 100);
	if (sl >= 98 && cust) service = "customised";
	else if (sl >= 95) service = "exclusive";
	else if (sl >= 87) service = "value_added";
	const char *payment = cust ? "monthly" : rng_percent(&r, 12) ? "cod" : "cash";

	/* when, and what it costs */
	int same_city = oc == dc;
	double km = distance_km(oc, dc);
	int64_t day = (int64_t)rng_below(&r, (uint64_t)(window_secs / DAY_SECS > 0 ? window_secs / DAY_SECS : 1));
	static const int hour_weights[24] = { 0, 0, 0, 0, 0, 0, 0, 1, 4, 8, 10, 10, 8, 8, 10, 10, 9, 8, 6, 4, 3, 2, 1, 0 };
	int total_w = 0, hour = 0;
	for (int h = 0; h < 24; h++)
		total_w += hour_weights[h];
	int pickw = (int)rng_below(&r, (uint64_t)total_w);
	while (pickw >= hour_weights[hour])
		pickw -= hour_weights[hour++];
	int64_t created = window_start + day * DAY_SECS + hour * HOUR_SECS + rng_range(&r, 0, HOUR_SECS - 1);
	if (created >= window_start + window_secs)
		created = window_start + window_secs - 1 - rng_range(&r, 0, HOUR_SECS);
	int64_t promised = local_day_start(created) + promise_days(km, same_city) * DAY_SECS + 20 * HOUR_SECS;
	int64_t fee = fee_fen(km, weight, same_city);
	if (insured)
		fee += declared / 200 > 100 ? declared / 200 : 100; /* 0.5%, at least 1 yuan */
	if (!strcmp(service, "exclusive"))
		fee = fee * 3 / 2;
	if (cust)
		fee = fee * 9 / 10;

	if (created > o->as_of)
		return;

	fprintf(out, "WAYBILL CREATE %s", number);
	put_arg(out, "sender_name", sender_name);
	put_arg(out, "sender_phone", sender_phone);
	put_arg(out, "sender_address", sender_address);
	put_arg(out, "sender_city", oc->name);
	put_arg(out, "receiver_name", receiver_name);
	put_arg(out, "receiver_phone", receiver_phone);
	put_arg(out, "receiver_address", receiver_address);
	put_arg(out, "receiver_city", dc->name);
	if (cust)
		put_arg(out, "customer", cust->account);
	put_arg(out, "origin_depot", depots[origin].code);
	put_arg(out, "dest_depot", depots[dest].code);
	put_arg(out, "goods", g->desc);
	put_int_arg(out, "pieces", pieces);
	put_int_arg(out, "weight_g", weight);
	if (declared)
		put_int_arg(out, "declared_value_fen", declared);
	if (insured)
		put_arg(out, "insured", "yes");
	if (used)
		put_arg(out, "used_goods", "yes");
	if (max_piece)
		put_int_arg(out, "max_piece_value_fen", max_piece);
	put_arg(out, "packaging", packaging);
	put_int_arg(out, "fee_fen", fee);
	put_arg(out, "payment", payment);
	put_arg(out, "service_level", service);
	put_time_arg(out, "promised_at", promised);
	put_time_arg(out, "created_at", created);
	if (o->req_tokens)
		fprintf(out, " req=gen-%llu-%s-0", (unsigned long long)o->seed, number);
	fputc('\n', out);

	struct parcel p = {
		.o = origin, .d = dest, .created = created, .promised = promised,
		.receiver_name = receiver_name, .receiver_surname = receiver_surname,
		.late = rng_percent(&r, o->late_share),
		.exc = rng_percent(&r, o->exception_share) ? pick_exception(&r) : EXC_NONE,
	};
	struct lifecycle lc;
	build_lifecycle(&r, &lc, &p, cust != NULL);
	for (int i = 0; i < lc.count; i++) {
		const struct event *e = &lc.ev[i];
		if (e->at > o->as_of)
			break;
		fprintf(out, "SCAN %s %s depot=%s", number, e->kind, depots[e->depot].code);
		put_time_arg(out, "at", e->at);
		if (e->signer) {
			put_arg(out, "signer", e->signer);
			put_arg(out, "signer_is_consignee", e->signer_is_consignee ? "yes" : "no");
		}
		if (e->remarks)
			put_arg(out, "remarks", e->remarks);
		if (e->reason)
			put_arg(out, "reason", e->reason);
		if (e->note)
			put_arg(out, "note", e->note);
		if (o->req_tokens)
			fprintf(out, " req=gen-%llu-%s-%d", (unsigned long long)o->seed, number, i + 1);
		fputc('\n', out);
	}
}

int main(int argc, char **argv)
{
	struct options o = {
		.seed = 1, .waybills = 1000, .start_number = 1, .number_width = 12,
		.depots = 10, .late_share = 8, .exception_share = 10, .days = 30,
		.customers = 50, .customer_share = 30, .same_city_share = 25,
	};
	const char *start_date = "2026-10-01";
	const char *as_of = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--req-tokens")) {
			o.req_tokens = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "gen: %s needs a value (or is unknown)\n", a);
			usage(stderr);
			return 2;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--seed"))
			o.seed = parse_u64(a, v, UINT64_MAX);
		else if (!strcmp(a, "--waybills"))
			o.waybills = parse_u64(a, v, 100000000);
		else if (!strcmp(a, "--start-number"))
			o.start_number = parse_u64(a, v, UINT64_MAX / 2);
		else if (!strcmp(a, "--number-format"))
			parse_number_format(&o, v);
		else if (!strcmp(a, "--depots"))
			o.depots = (int)parse_u64(a, v, MAX_DEPOTS);
		else if (!strcmp(a, "--late-share"))
			o.late_share = parse_pct(a, v);
		else if (!strcmp(a, "--exception-share"))
			o.exception_share = parse_pct(a, v);
		else if (!strcmp(a, "--start-date"))
			start_date = v;
		else if (!strcmp(a, "--days"))
			o.days = (int)parse_u64(a, v, 3660);
		else if (!strcmp(a, "--customers"))
			o.customers = (int)parse_u64(a, v, 999899);
		else if (!strcmp(a, "--customer-share"))
			o.customer_share = parse_pct(a, v);
		else if (!strcmp(a, "--same-city-share"))
			o.same_city_share = parse_pct(a, v);
		else if (!strcmp(a, "--as-of"))
			as_of = v;
		else {
			fprintf(stderr, "gen: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (o.depots < 1)
		die("--depots must be at least 1");
	if (o.days < 1)
		die("--days must be at least 1");
	int y, m, d;
	if (pd_date_parse(start_date, &y, &m, &d) < 0)
		die("--start-date must be a date like 2026-10-01, got '%s'", start_date);
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	o.start = (int64_t)timegm(&tm) - ZONE_OFFSET_SECS;
	int64_t now = (int64_t)time(NULL);
	o.as_of = now;
	if (as_of) {
		if (pd_time_parse(as_of, &o.as_of) < 0)
			die("--as-of must be a time like 2026-11-24T09:30:00+08:00");
		if (o.as_of > now) {
			fprintf(stderr, "gen: --as-of is in the future; using now (the daemon refuses future scans)\n");
			o.as_of = now;
		}
	}
	/* waybills are created inside the window, and not after as-of */
	int64_t window_secs = (int64_t)o.days * DAY_SECS;
	if (o.start >= o.as_of)
		die("--start-date is not in the past");
	if (o.start + window_secs > o.as_of)
		window_secs = o.as_of - o.start;

	char first[48], last[48];
	format_number(&o, o.start_number, first, sizeof(first));
	format_number(&o, o.start_number + (o.waybills ? o.waybills - 1 : 0), last, sizeof(last));
	if (strlen(first) < 6 || strlen(last) > 20)
		die("waybill numbers %s .. %s: a waybill number has 6 to 20 digits", first, last);

	make_depots(&o);
	make_customers(&o);
	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	for (uint64_t i = 0; i < o.waybills; i++)
		generate_waybill(stdout, &o, i, o.start, window_secs);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gen: write error: %s\n", strerror(errno));
		return 1;
	}
	free(customer_list);
	return 0;
}
