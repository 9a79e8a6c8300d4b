/* The seeded procedural catalog (spec §11): products in WebShop's loaded schema, with attributes from
 * the real vocabulary of items_ins_v2_1000.json, synthetic instructions in WebShop's template, option
 * groups, prices, and sibling products that differ in attributes, options or price (distractors).
 * The catalog is a pure function of (seed, number of products, attribute file). */
#include "env/webshop/ws.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables ------------------------------------------------------------------------------------ */

typedef struct ws_type {
    const char *category;
    const char *query;   /* WebShop's "query": the product type */
    const char *head;    /* title words naming the type */
    const char *nouns;   /* nouns of head, lowercased, space separated */
    const char *path;    /* product_category levels, "›" separated */
    double lo, hi;       /* price range */
    const char *opts;    /* option groups: comma separated keys of ws_opt_pools */
} ws_type;

#define SEP " \xE2\x80\xBA "
static const ws_type ws_types[] = {
    {"beauty", "shampoo & conditioner", "Shampoo and Conditioner Set", "shampoo conditioner set",
     "Beauty & Personal Care" SEP "Hair Care" SEP "Shampoo & Conditioner" SEP "Sets", 8, 60, "scent,ounce"},
    {"beauty", "hair extensions", "Clip in Hair Extensions", "clip hair extensions",
     "Beauty & Personal Care" SEP "Hair Care" SEP "Hair Extensions, Wigs & Accessories" SEP "Extensions", 15, 150, "color,inch"},
    {"beauty", "face moisturizer", "Face Moisturizer Cream", "face moisturizer cream",
     "Beauty & Personal Care" SEP "Skin Care" SEP "Face" SEP "Creams & Moisturizers", 10, 80, "ounce"},
    {"beauty", "nail polish", "Nail Polish", "nail polish",
     "Beauty & Personal Care" SEP "Foot, Hand & Nail Care" SEP "Nail Art & Polish" SEP "Nail Polish", 5, 30, "color,pack"},
    {"beauty", "eyeshadow palette", "Eyeshadow Palette", "eyeshadow palette",
     "Beauty & Personal Care" SEP "Makeup" SEP "Eyes" SEP "Eyeshadow", 8, 60, "color"},
    {"beauty", "body wash", "Moisturizing Body Wash", "body wash",
     "Beauty & Personal Care" SEP "Skin Care" SEP "Body" SEP "Cleansers" SEP "Body Washes", 6, 40, "scent,pack"},
    {"beauty", "lipstick", "Matte Lipstick", "lipstick",
     "Beauty & Personal Care" SEP "Makeup" SEP "Lips" SEP "Lipstick", 6, 35, "color"},
    {"beauty", "makeup brushes", "Makeup Brush Set", "makeup brush set",
     "Beauty & Personal Care" SEP "Tools & Accessories" SEP "Makeup Brushes & Tools" SEP "Brush Sets", 8, 50, "color"},
    {"beauty", "deodorant", "Natural Deodorant Stick", "deodorant stick",
     "Beauty & Personal Care" SEP "Personal Care" SEP "Deodorants & Antiperspirants", 5, 25, "scent,pack"},
    {"beauty", "hair dryer", "Ionic Hair Dryer", "hair dryer",
     "Beauty & Personal Care" SEP "Hair Care" SEP "Styling Tools & Appliances" SEP "Hair Dryers", 20, 200, "color,style"},
    {"electronics", "wireless earbuds", "Wireless Earbuds", "earbuds",
     "Electronics" SEP "Headphones, Earbuds & Accessories" SEP "Earbud Headphones", 15, 200, "color"},
    {"electronics", "phone case", "Shockproof Phone Case", "phone case",
     "Cell Phones & Accessories" SEP "Cases, Holsters & Sleeves" SEP "Basic Cases", 6, 40, "color,phone"},
    {"electronics", "usb cables", "USB C Charging Cable", "usb charging cable",
     "Electronics" SEP "Computers & Accessories" SEP "Cables & Interconnects" SEP "USB Cables", 5, 30, "color,length"},
    {"electronics", "bluetooth speakers", "Portable Bluetooth Speaker", "bluetooth speaker",
     "Electronics" SEP "Portable Audio & Video" SEP "Portable Speakers & Docks" SEP "Portable Bluetooth Speakers", 20, 250, "color"},
    {"electronics", "tv mounts", "TV Wall Mount Bracket", "tv wall mount bracket",
     "Electronics" SEP "Television & Video" SEP "Accessories" SEP "TV Mounts, Stands & Turntables", 20, 150, "style"},
    {"electronics", "memory cards", "Micro SD Memory Card", "sd memory card",
     "Electronics" SEP "Computers & Accessories" SEP "Data Storage" SEP "Micro SD Cards", 8, 80, "capacity,pack"},
    {"electronics", "laptop stands", "Adjustable Laptop Stand", "laptop stand",
     "Electronics" SEP "Computers & Accessories" SEP "Laptop Accessories" SEP "Stands", 15, 80, "color"},
    {"electronics", "security cameras", "Indoor Security Camera", "security camera",
     "Electronics" SEP "Camera & Photo" SEP "Video Surveillance" SEP "Surveillance Cameras", 25, 300, "style,pack"},
    {"electronics", "power banks", "Portable Charger Power Bank", "charger power bank",
     "Cell Phones & Accessories" SEP "Accessories" SEP "Chargers & Power Adapters" SEP "Portable Power Banks", 15, 90, "color,mah"},
    {"electronics", "gaming keyboards", "Mechanical Gaming Keyboard", "gaming keyboard",
     "Electronics" SEP "Computers & Accessories" SEP "Keyboards, Mice & Accessories" SEP "Keyboards", 25, 180, "color,style"},
    {"fashion", "women's dresses", "Women's Bodycon Dress", "women dress",
     "Clothing, Shoes & Jewelry" SEP "Women" SEP "Clothing" SEP "Dresses" SEP "Casual", 15, 80, "color,size"},
    {"fashion", "men's t-shirts", "Men's Crew Neck T-Shirt", "men crew neck t shirt",
     "Clothing, Shoes & Jewelry" SEP "Men" SEP "Clothing" SEP "Shirts" SEP "T-Shirts", 8, 40, "color,size"},
    {"fashion", "women's sandals", "Women's Flat Sandals", "women sandals",
     "Clothing, Shoes & Jewelry" SEP "Women" SEP "Shoes" SEP "Sandals" SEP "Flat Sandals", 15, 90, "color,shoe"},
    {"fashion", "men's running shoes", "Men's Running Shoes", "men running shoes",
     "Clothing, Shoes & Jewelry" SEP "Men" SEP "Shoes" SEP "Athletic" SEP "Running", 30, 160, "color,shoe"},
    {"fashion", "women's leggings", "Women's High Waist Leggings", "women waist leggings",
     "Clothing, Shoes & Jewelry" SEP "Women" SEP "Clothing" SEP "Active" SEP "Leggings", 10, 50, "color,size"},
    {"fashion", "men's jeans", "Men's Straight Fit Jeans", "men jeans",
     "Clothing, Shoes & Jewelry" SEP "Men" SEP "Clothing" SEP "Jeans", 20, 90, "color,waist"},
    {"fashion", "baseball caps", "Baseball Cap", "baseball cap",
     "Clothing, Shoes & Jewelry" SEP "Men" SEP "Accessories" SEP "Hats & Caps" SEP "Baseball Caps", 8, 35, "color"},
    {"fashion", "women's jackets", "Women's Winter Jacket", "women winter jacket",
     "Clothing, Shoes & Jewelry" SEP "Women" SEP "Clothing" SEP "Coats, Jackets & Vests", 30, 200, "color,size"},
    {"fashion", "men's socks", "Men's Crew Socks", "men crew socks",
     "Clothing, Shoes & Jewelry" SEP "Men" SEP "Clothing" SEP "Socks" SEP "Casual Socks", 8, 30, "color,pack"},
    {"fashion", "women's sweaters", "Women's Cardigan Sweater", "women cardigan sweater",
     "Clothing, Shoes & Jewelry" SEP "Women" SEP "Clothing" SEP "Sweaters" SEP "Cardigans", 18, 70, "color,size"},
    {"garden", "console tables", "Console Table", "console table",
     "Home & Kitchen" SEP "Furniture" SEP "Living Room Furniture" SEP "Tables" SEP "Sofa Tables", 60, 900, "color"},
    {"garden", "area rugs", "Area Rug", "area rug",
     "Home & Kitchen" SEP "Home D\xC3\xA9" "cor" SEP "Area Rugs, Runners & Pads" SEP "Area Rugs", 30, 500, "color,rug"},
    {"garden", "bed sheets", "Bed Sheet Set", "bed sheet set",
     "Home & Kitchen" SEP "Bedding" SEP "Sheets & Pillowcases" SEP "Sheet & Pillowcase Sets", 20, 150, "color,bed"},
    {"garden", "throw pillow covers", "Throw Pillow Covers", "throw pillow covers",
     "Home & Kitchen" SEP "Bedding" SEP "Decorative Pillows, Inserts & Covers" SEP "Throw Pillow Covers", 8, 40, "color,inch"},
    {"garden", "office chairs", "Ergonomic Office Chair", "office chair",
     "Home & Kitchen" SEP "Furniture" SEP "Home Office Furniture" SEP "Home Office Chairs", 60, 400, "color"},
    {"garden", "curtains", "Blackout Curtains", "blackout curtains",
     "Home & Kitchen" SEP "Home D\xC3\xA9" "cor" SEP "Window Treatments" SEP "Curtains & Drapes" SEP "Panels", 15, 90, "color,curtain"},
    {"garden", "bookcases", "Bookcase Shelf", "bookcase shelf",
     "Home & Kitchen" SEP "Furniture" SEP "Home Office Furniture" SEP "Bookcases", 50, 400, "color"},
    {"garden", "garden hoses", "Expandable Garden Hose", "garden hose",
     "Patio, Lawn & Garden" SEP "Watering Equipment" SEP "Garden Hoses", 15, 90, "length"},
    {"garden", "bath towels", "Cotton Bath Towel Set", "cotton bath towel set",
     "Home & Kitchen" SEP "Bath" SEP "Towels" SEP "Bath Towels", 15, 80, "color,pack"},
    {"garden", "desk lamps", "LED Desk Lamp", "desk lamp",
     "Tools & Home Improvement" SEP "Lighting & Ceiling Fans" SEP "Lamps & Shades" SEP "Desk Lamps", 15, 90, "color,style"},
    {"grocery", "snack foods", "Granola Snack Bars", "granola snack bars",
     "Grocery & Gourmet Food" SEP "Snack Foods" SEP "Bars" SEP "Granola Bars", 5, 40, "flavor,ounce"},
    {"grocery", "ground coffee", "Ground Coffee", "coffee",
     "Grocery & Gourmet Food" SEP "Beverages" SEP "Coffee, Tea & Cocoa" SEP "Coffee" SEP "Ground Coffee", 8, 45, "flavor,ounce"},
    {"grocery", "herbal tea", "Herbal Tea Bags", "tea bags",
     "Grocery & Gourmet Food" SEP "Beverages" SEP "Coffee, Tea & Cocoa" SEP "Tea" SEP "Herbal", 5, 30, "flavor,count"},
    {"grocery", "protein powder", "Whey Protein Powder", "whey protein powder",
     "Health & Household" SEP "Diet & Sports Nutrition" SEP "Sports Nutrition" SEP "Protein", 20, 80, "flavor,pound"},
    {"grocery", "chocolate candy", "Dark Chocolate Bars", "chocolate bars",
     "Grocery & Gourmet Food" SEP "Candy & Chocolate" SEP "Chocolate Candy" SEP "Bars", 5, 40, "flavor,pack"},
    {"grocery", "olive oil", "Extra Virgin Olive Oil", "olive oil",
     "Grocery & Gourmet Food" SEP "Pantry Staples" SEP "Cooking & Baking" SEP "Oils" SEP "Olive", 8, 50, "ounce"},
    {"grocery", "beef jerky", "Beef Jerky", "beef jerky",
     "Grocery & Gourmet Food" SEP "Meat & Seafood" SEP "Jerky", 6, 40, "flavor,ounce"},
    {"grocery", "pasta", "Organic Pasta", "pasta",
     "Grocery & Gourmet Food" SEP "Pantry Staples" SEP "Dried Beans, Grains & Rice" SEP "Pasta & Noodles", 4, 30, "style,pack"},
    {"grocery", "baby food", "Baby Food Pouches", "baby food pouches",
     "Baby Products" SEP "Feeding" SEP "Baby Foods" SEP "Snacks", 8, 40, "flavor,count"},
    {"grocery", "spices", "Seasoning Blend", "seasoning blend",
     "Grocery & Gourmet Food" SEP "Pantry Staples" SEP "Herbs, Spices & Seasonings" SEP "Mixed Spices & Seasonings", 4, 25, "flavor,ounce"},
};
#define WS_N_TYPES ((int)(sizeof ws_types / sizeof *ws_types))

typedef struct ws_opt_pool {
    const char *key, *name;
    bool ordered; /* sizes: pick a contiguous run, keep order */
    const char *values[24];
} ws_opt_pool;

static const ws_opt_pool ws_opt_pools[] = {
    {"color", "color", false, {"black", "white", "navy blue", "light blue", "red", "pink", "grey", "dark grey", "beige",
                               "khaki", "green", "brown", "purple", "gold", "rose gold", "silver", "yellow", "orange",
                               "wine red", "ivory", "teal", "olive green", "sky blue", "hot pink"}},
    {"size", "size", true, {"x-small", "small", "medium", "large", "x-large", "xx-large", "3x-large"}},
    {"shoe", "size", true, {"6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"}},
    {"bed", "size", true, {"twin", "full", "queen", "king", "california king"}},
    {"rug", "size", true, {"2 ft x 3 ft", "3 ft x 5 ft", "4 ft x 6 ft", "5 ft x 8 ft", "8 ft x 10 ft"}},
    {"inch", "size", true, {"12 inch", "14 inch", "16 inch", "18 inch", "20 inch", "24 inch"}},
    {"pack", "size", true, {"pack of 1", "pack of 2", "pack of 3", "pack of 4", "pack of 6", "pack of 12"}},
    {"ounce", "size", true, {"4 ounce (pack of 1)", "8 ounce (pack of 1)", "12 ounce (pack of 2)", "16 ounce (pack of 2)",
                             "32 ounce (pack of 4)"}},
    {"count", "size", true, {"20 count", "40 count", "60 count", "100 count"}},
    {"pound", "size", true, {"1 pound", "2 pound", "5 pound"}},
    {"flavor", "flavor name", false, {"vanilla", "chocolate", "strawberry", "original", "honey", "cinnamon", "sea salt",
                                      "caramel", "coconut", "mango", "peanut butter", "mixed berry", "salted caramel"}},
    {"scent", "scent", false, {"lavender", "unscented", "coconut", "vanilla", "rose", "citrus", "eucalyptus", "fresh linen"}},
    {"style", "style", false, {"classic", "modern", "vintage", "deluxe", "style a", "style b", "basic", "premium"}},
    {"phone", "style", false, {"iphone 13", "iphone 14", "iphone 14 pro", "galaxy s22", "galaxy s23", "pixel 7"}},
    {"length", "size", true, {"3 ft", "6 ft", "10 ft", "25 ft", "50 ft", "100 ft"}},
    {"capacity", "capacity", true, {"32gb", "64gb", "128gb", "256gb", "512gb"}},
    {"mah", "capacity", true, {"5000mah", "10000mah", "20000mah", "26800mah"}},
    {"waist", "size", true, {"30w x 30l", "32w x 30l", "32w x 32l", "34w x 32l", "36w x 32l", "38w x 34l"}},
    {"curtain", "size", true, {"52 x 63 inch", "52 x 84 inch", "52 x 96 inch"}},
};

/* Keywords that send a real attribute to a category's pool (first category that matches); the rest
 * (generic ones such as "easy use", "high quality") are shared by all types. */
static const char *const ws_cat_words[5][72] = {
    {"hair", "skin", "paraben", "cruelty", "makeup", "nail", "sulfate", "face", "eye", "lip", "acid", "oil",
     "beauty", "sensitive", "dry", "natural", "aloe", "aging", "perspirant", "deodorant", "breath", "bath",
     "brush", "body", "cosmetic", "dental", "dermatolog", "facial", "fine lines", "dark circles", "fragrance",
     "oral", "parfum", "shampoo", "shea", "shower", "teeth", "tongue", "tattoo", "toothpaste", "animal testing",
     "clinically", "alcohol free", "travel", "mirror", "lotion", "tea tree", "scissors", NULL},
    {"remote", "usb", "speed", "wireless", "screen", "batter", "bluetooth", "hd", "audio", "power", "charging",
     "camera", "glass", "noise", "tempered", "plug", "adapter", "lte", "alarm", "apple", "watch", "blu ray",
     "canon", "stereo", "cd player", "dvd", "cable", "cell", "phone", "refurbished", "band", "drive", "photograph",
     "radio", "definition", "resolution", "ipad", "iphone", "macbook", "card", "nintendo", "playstation", "oculus",
     "reality", "headset", "vr", "zoom", "lens", "motion", "night vision", "quad core", "pro max", "samsung",
     "signal", "smart", "sound", "tv", "voice", "volume", "output", "extension", "carrying case", "case cover",
     "led", "hands free", "high performance", NULL},
    {"sleeve", "fit", "sole", "wear", "wash", "cotton", "polyester", "women", "men", "tops", "shirt", "waist",
     "tees", "leather", "closure", "jeans", "ankle", "arch", "shorts", "pants", "bathing", "swim", "bikini",
     "blouse", "boxer", "butt", "sweater", "toe", "shoes", "sandals", "denim", "dress", "faux fur", "fleece lined",
     "gym", "heel", "zipper", "hoodie", "jogger", "knee", "lingerie", "pajama", "leg", "rise", "moisture", "nylon",
     "spandex", "tummy", "trunks", "stretch", "sneakers", "lounge", "yoga", "boots", "strap", "cargo", "fashion",
     "winter", "teen", NULL},
    {"room", "wood", "home", "assembly", "storage", "wall", "decor", "install", "assemble", "steel", "kitchen",
     "frame", "living", "bedroom", "dining", "space", "shelves", "shelf", "rack", "stool", "bedside", "table",
     "bookcase", "box spring", "cabinet", "bronze", "nickel", "tufted", "coat", "desk", "lamp", "light fixture",
     "mattress", "foam", "blanket", "throw", "bed", "sofa", "curtain", "window", "vanity", "candle", "soy wax",
     "finish", "mid century", "metal legs", "hall tree", "gloss", "pillow", "towel", "water tank", "microwave",
     "hooks", "height adjustable", "contemporary", "aluminum", "double sided", "heavy duty", "pendant", "size",
     NULL},
    {"gluten", "sugar", "protein", "organic", "flavor", "food", "dairy", "vegan", "keto", "snack", "fat",
     "artificial", "gmo", "coffee", "tea", "calorie", "trans", "baked", "jerky", "rice", "cheese", "chocolate",
     "cupcake", "fiber", "fruit", "drink", "freeze", "fructose", "cooked", "grain", "herbs", "spices", "ice cream",
     "kosher", "lactose", "carb", "mac cheese", "milk", "nut free", "peanut", "potato", "plant based", "ready eat",
     "resealable", "creamy", "sea salt", "shelf stable", "soy free", "vitamin", "trail mix", "wheat", "wild caught",
     "sour", "individually wrapped", "non alcoholic", "ingredients", "party", "cheddar", NULL}};
static const char *const ws_cats[5] = {"beauty", "electronics", "fashion", "garden", "grocery"};

static const char *const ws_syll[] = {"ka", "lo", "mi", "ra", "ven", "tor", "zi", "bel", "nor", "sa", "qu", "ex",
                                      "lu", "po", "dri", "fa", "mar", "kel", "vi", "on", "ta", "ber", "gro", "sen"};
static const char *const ws_hints[][2] = {{"", ""}, {"for Women", "women"}, {"for Men", "men"}, {"2 Pack", "pack"},
                                          {"Gift Set", "gift set"}, {"for Home", "home"}, {"with Storage Bag", "storage bag"},
                                          {"Travel Size", "travel size"}, {"for Kids", "kids"}, {"", ""}};

enum { TAG_PROP, TAG_ITEM, TAG_USE };

typedef struct ws_vocab {
    ws_arena *arena; /* attribute strings live in the world's arena (products point at them) */
    char **attr;
    int *tag;
    int *cat; /* 0..4 or -1 (shared) */
    int n;
} ws_vocab;

/* ---- vocabulary from the attribute file ---------------------------------------------------------- */

static int ws_vocab_add(ws_vocab *v, const char *a) {
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->attr[i], a)) return i;
    v->attr = hp_xrealloc(v->attr, (size_t)(v->n + 1) * sizeof(char *));
    v->tag = hp_xrealloc(v->tag, (size_t)(v->n + 1) * sizeof(int));
    v->cat = hp_xrealloc(v->cat, (size_t)(v->n + 1) * sizeof(int));
    v->attr[v->n] = ws_arena_strdup(v->arena, a);
    v->tag[v->n] = TAG_PROP;
    v->cat[v->n] = -1;
    return v->n++;
}

static void ws_vocab_free(ws_vocab *v) {
    free(v->attr), free(v->tag), free(v->cat);
}

/* Tag = the clause of the real instruction the attribute appears in ("with" → ITEM, "for" → USE). */
static int ws_tag_of(const char *ins, const char *attr) {
    const char *at = strstr(ins, attr);
    if (!at) return TAG_PROP;
    const char *w = strstr(ins, " with "), *f = strstr(ins, " for ");
    if (f && at > f) return TAG_USE;
    if (w && at > w) return TAG_ITEM;
    return TAG_PROP;
}

static int ws_vocab_load(ws_vocab *v, const char *path, hp_err *err) {
    char *data;
    size_t len;
    if (hp_read_file(path, &data, &len, err)) return HP_FAIL;
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return hp_fail(err, "%s: not a JSON object of ASIN -> {attributes, instruction, ...}", path);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(it, "attributes");
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(it, "instruction");
        const cJSON *ia = cJSON_GetObjectItemCaseSensitive(it, "instruction_attributes");
        if (!cJSON_IsObject(it) || !cJSON_IsArray(attrs)) {
            cJSON_Delete(root);
            return hp_fail(err, "%s: key '%s' has no 'attributes' list", path, it->string ? it->string : "?");
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, attrs) if (cJSON_IsString(a) && *a->valuestring) ws_vocab_add(v, a->valuestring);
        if (cJSON_IsString(ins) && cJSON_IsArray(ia)) {
            cJSON_ArrayForEach(a, ia) if (cJSON_IsString(a) && *a->valuestring) {
                int id = ws_vocab_add(v, a->valuestring);
                v->tag[id] = ws_tag_of(ins->valuestring, a->valuestring);
            }
        }
    }
    cJSON_Delete(root);
    if (v->n < 20) return hp_fail(err, "%s: only %d attributes (need at least 20)", path, v->n);
    for (int i = 0; i < v->n; i++)
        for (int c = 0; c < 5 && v->cat[i] < 0; c++)
            for (int k = 0; ws_cat_words[c][k]; k++)
                if (strstr(v->attr[i], ws_cat_words[c][k])) {
                    v->cat[i] = c;
                    break;
                }
    return HP_OK;
}

/* ---- product generation ------------------------------------------------------------------------ */

typedef struct ws_gen {
    ws_world *w;
    hp_rng rng;
    const ws_vocab *voc;
    int *pool[WS_N_TYPES]; /* per type: attribute ids */
    int pool_n[WS_N_TYPES];
    hp_buf b;
} ws_gen;

static int ws_cat_index(const char *c) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(ws_cats[i], c)) return i;
    return 0;
}

static void ws_build_pools(ws_gen *g) {
    for (int t = 0; t < WS_N_TYPES; t++) {
        int c = ws_cat_index(ws_types[t].category), n = 0;
        int *p = hp_xmalloc(28 * sizeof(int));
        for (int tries = 0; n < 28 && tries < 4000; tries++) {
            int id = (int)hp_rng_below(&g->rng, (uint64_t)g->voc->n);
            bool want = n < 22 ? g->voc->cat[id] == c : g->voc->cat[id] < 0;
            if (tries > 2000) want = true;
            for (int k = 0; k < n && want; k++) want = p[k] != id;
            if (want) p[n++] = id;
        }
        g->pool[t] = p;
        g->pool_n[t] = n;
    }
}

static const char *ws_title_case(ws_gen *g, const char *s) {
    char *d = ws_arena_strdup(&g->w->arena, s);
    for (char *p = d; *p; p++)
        if ((p == d || p[-1] == ' ') && *p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
    return d;
}

static void ws_gen_brand(ws_gen *g, char *out, size_t cap) {
    int n = 2 + (int)hp_rng_below(&g->rng, 2);
    out[0] = 0;
    for (int i = 0; i < n; i++) strncat(out, ws_syll[hp_rng_below(&g->rng, sizeof ws_syll / sizeof *ws_syll)], cap - strlen(out) - 1);
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 32);
}

static const ws_opt_pool *ws_pool_by_key(const char *key, size_t n) {
    for (size_t i = 0; i < sizeof ws_opt_pools / sizeof *ws_opt_pools; i++)
        if (strlen(ws_opt_pools[i].key) == n && !strncmp(ws_opt_pools[i].key, key, n)) return &ws_opt_pools[i];
    return NULL;
}

static int ws_pool_len(const ws_opt_pool *p) {
    int n = 0;
    while (n < 24 && p->values[n]) n++;
    return n;
}

static void ws_gen_options(ws_gen *g, ws_product *p, const ws_type *t) {
    ws_option opts[4];
    int no = 0;
    if (hp_rng_uniform(&g->rng) < 0.12) return; /* no options */
    for (const char *s = t->opts; *s && no < 4;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const ws_opt_pool *pool = ws_pool_by_key(s, n);
        s += n + (e ? 1 : 0);
        if (!pool || (no && hp_rng_uniform(&g->rng) < 0.1)) continue;
        int len = ws_pool_len(pool), k = 2 + (int)hp_rng_below(&g->rng, (uint64_t)(len < 8 ? len - 1 : 7));
        if (k > len) k = len;
        const char **vals = ws_arena_alloc(&g->w->arena, (size_t)k * sizeof(char *));
        if (pool->ordered) {
            int start = (int)hp_rng_below(&g->rng, (uint64_t)(len - k + 1));
            for (int i = 0; i < k; i++) vals[i] = pool->values[start + i];
        } else {
            int idx[24];
            for (int i = 0; i < len; i++) idx[i] = i;
            hp_rng_shuffle(&g->rng, idx, (size_t)len, sizeof(int));
            for (int i = 0; i < k; i++) vals[i] = pool->values[idx[i]];
        }
        opts[no++] = (ws_option){pool->name, vals, k};
    }
    /* real data often lists size before color: keep the table order, but swap half the time */
    if (no == 2 && hp_rng_uniform(&g->rng) < 0.5) {
        ws_option tmp = opts[0];
        opts[0] = opts[1], opts[1] = tmp;
    }
    p->options = ws_arena_alloc(&g->w->arena, (size_t)(no ? no : 1) * sizeof(ws_option));
    memcpy(p->options, opts, (size_t)no * sizeof(ws_option));
    p->n_options = no;
}

static void ws_gen_price(ws_gen *g, ws_product *p, const ws_type *t) {
    double u = hp_rng_uniform(&g->rng);
    double a = round(exp(log(t->lo) + hp_rng_uniform(&g->rng) * (log(t->hi) - log(t->lo))) * 100) / 100;
    char x[32], y[32];
    if (u < 0.05) {
        p->price_tag = "$100.0";
        p->reward_price = 100.0;
    } else if (u < 0.25) {
        double b2 = round(a * (1.1 + 0.5 * hp_rng_uniform(&g->rng)) * 100) / 100;
        ws_py_float(a, x, sizeof x), ws_py_float(b2, y, sizeof y);
        hp_buf_clear(&g->b);
        hp_buf_printf(&g->b, "$%s to $%s", x, y);
        p->price_tag = ws_arena_strdup(&g->w->arena, g->b.data);
        p->reward_price = a + (b2 - a) * hp_rng_uniform(&g->rng);
    } else {
        ws_py_float(a, x, sizeof x);
        hp_buf_clear(&g->b);
        hp_buf_printf(&g->b, "$%s", x);
        p->price_tag = ws_arena_strdup(&g->w->arena, g->b.data);
        p->reward_price = a;
    }
}

/* Attributes: 0..7 from the type's pool; a sibling keeps most of its model's attributes. */
static void ws_gen_attrs(ws_gen *g, ws_product *p, int type, const ws_product *model) {
    int ids[8], n = 0, want = (int)hp_rng_below(&g->rng, 8);
    if (model && model->n_attrs) want = model->n_attrs;
    const ws_vocab *v = g->voc;
    if (model)
        for (int i = 0; i < model->n_attrs && n < 8; i++) {
            if (n && hp_rng_uniform(&g->rng) < 0.3) continue; /* drop one: differs in an attribute */
            for (int k = 0; k < v->n; k++)
                if (!strcmp(v->attr[k], model->attrs[i])) ids[n++] = k;
        }
    for (int tries = 0; n < want && tries < 100; tries++) {
        int id = g->pool[type][hp_rng_below(&g->rng, (uint64_t)g->pool_n[type])];
        bool dup = false;
        for (int k = 0; k < n; k++) dup |= ids[k] == id;
        if (!dup) ids[n++] = id;
    }
    p->attrs = ws_arena_alloc(&g->w->arena, (size_t)(n ? n : 1) * sizeof(char *));
    for (int i = 0; i < n; i++) p->attrs[i] = v->attr[ids[i]];
    p->n_attrs = n;
}

static void ws_add_noun(ws_gen *g, const char ***nouns, int *n, int *cap, const char *words) {
    const char *s = words;
    while (*s) {
        while (*s == ' ') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (e > s) {
            if (*n == *cap) {
                int nc = *cap * 2;
                const char **nn = ws_arena_alloc(&g->w->arena, (size_t)nc * sizeof(char *));
                memcpy(nn, *nouns, (size_t)*n * sizeof(char *));
                *nouns = nn, *cap = nc;
            }
            char *wd = ws_arena_strndup(&g->w->arena, s, (size_t)(e - s));
            ws_lower_inplace(wd);
            (*nouns)[(*n)++] = wd;
        }
        s = e;
    }
}

/* Title, description and bullets; every attribute appears in at least one of them. */
static void ws_gen_text(ws_gen *g, ws_product *p, const ws_type *t) {
    static const char *const adj[] = {"Premium", "Soft", "Durable", "Lightweight", "Classic", "Modern", "Compact", "Deluxe", "Essential", "Ultra"};
    char brand[64];
    ws_gen_brand(g, brand, sizeof brand);
    int hint = (int)hp_rng_below(&g->rng, sizeof ws_hints / sizeof *ws_hints);
    int in_title = p->n_attrs < 2 ? p->n_attrs : 1 + (int)hp_rng_below(&g->rng, 2);
    hp_buf *b = &g->b;
    hp_buf_clear(b);
    hp_buf_printf(b, "%s %s", brand, adj[hp_rng_below(&g->rng, 10)]);
    for (int i = 0; i < in_title; i++) hp_buf_printf(b, " %s", ws_title_case(g, p->attrs[i]));
    hp_buf_printf(b, " %s", t->head);
    if (*ws_hints[hint][0]) hp_buf_printf(b, " %s", ws_hints[hint][0]);
    p->title = ws_arena_strdup(&g->w->arena, b->data);
    int cap = 16;
    p->nouns = ws_arena_alloc(&g->w->arena, (size_t)cap * sizeof(char *));
    ws_add_noun(g, &p->nouns, &p->n_nouns, &cap, brand);
    ws_add_noun(g, &p->nouns, &p->n_nouns, &cap, t->nouns);
    ws_add_noun(g, &p->nouns, &p->n_nouns, &cap, ws_hints[hint][1]);
    /* remaining attributes: spread over bullets and description */
    int nb = 1 + (int)hp_rng_below(&g->rng, 5);
    p->bullets = ws_arena_alloc(&g->w->arena, (size_t)(nb + 8) * sizeof(char *));
    static const char *const bt[][2] = {{"", ": designed to last, tested for quality"}, {"Made with ", " for everyday use"},
                                        {"", " - a thoughtful detail you will notice"}, {"Features ", ""},
                                        {"Great choice if you need ", ""}};
    static const char *const filler[] = {"Satisfaction guaranteed", "Package includes 1 item", "Ships in a gift-ready box",
                                         "Easy to use out of the box", "Backed by a one-year warranty"};
    int ai = in_title;
    hp_buf_clear(b);
    bool desc = hp_rng_uniform(&g->rng) < 0.75;
    if (desc) hp_buf_printf(b, "This %s from %s is made for daily use.", t->head, brand);
    for (int i = 0; i < nb || ai < p->n_attrs; i++) {
        if (ai < p->n_attrs && (i < nb || !desc || hp_rng_uniform(&g->rng) < 0.5)) {
            hp_buf bl = {0};
            int k = (int)hp_rng_below(&g->rng, 5);
            hp_buf_printf(&bl, "%s%s%s", bt[k][0], i == 0 ? ws_title_case(g, p->attrs[ai]) : p->attrs[ai], bt[k][1]);
            p->bullets[p->n_bullets++] = ws_arena_strdup(&g->w->arena, bl.data);
            hp_buf_free(&bl);
            ai++;
        } else if (ai < p->n_attrs) {
            hp_buf_printf(b, " It is %s.", p->attrs[ai++]);
        } else if (i < nb) {
            p->bullets[p->n_bullets++] = hp_rng_uniform(&g->rng) < 0.05 ? "" : filler[hp_rng_below(&g->rng, 5)];
        }
    }
    p->desc = ws_arena_strdup(&g->w->arena, b->data);
}

/* "Find me {PROP} {query}[ with {ITEM}][ for {USE}]" from 2..4 of the product's attributes. */
static void ws_gen_instruction(ws_gen *g, ws_product *p) {
    if (p->n_attrs < 2 || hp_rng_uniform(&g->rng) >= 0.5) return;
    int k = 2 + (int)hp_rng_below(&g->rng, 3);
    if (k > p->n_attrs) k = p->n_attrs;
    int idx[8];
    for (int i = 0; i < p->n_attrs; i++) idx[i] = i;
    hp_rng_shuffle(&g->rng, idx, (size_t)p->n_attrs, sizeof(int));
    p->ins_attrs = ws_arena_alloc(&g->w->arena, (size_t)k * sizeof(char *));
    p->n_ins_attrs = k;
    for (int i = 0; i < k; i++) p->ins_attrs[i] = p->attrs[idx[i]];
    hp_buf *b = &g->b;
    hp_buf_clear(b);
    hp_buf_puts(b, "Find me");
    const char *clause[3] = {"", " with", " for"};
    for (int tag = 0; tag < 3; tag++) {
        bool first = true;
        for (int i = 0; i < k; i++) {
            int id = -1;
            for (int v = 0; v < g->voc->n && id < 0; v++)
                if (!strcmp(g->voc->attr[v], p->ins_attrs[i])) id = v;
            if (id < 0 || g->voc->tag[id] != tag) continue;
            hp_buf_printf(b, "%s %s", first ? clause[tag] : ",", p->ins_attrs[i]);
            first = false;
        }
        if (tag == 0) hp_buf_printf(b, " %s", p->query);
    }
    p->instruction = ws_arena_strdup(&g->w->arena, b->data);
}

static void ws_gen_asin(ws_gen *g, char *asin, uint64_t *seen, size_t cap) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (;;) {
        memcpy(asin, "B0", 2);
        for (int i = 2; i < 10; i++) asin[i] = digits[hp_rng_below(&g->rng, 36)];
        asin[10] = 0;
        uint64_t h = hp_hash64(asin, 10, 7) | 1;
        size_t s = h & (cap - 1);
        bool dup = false;
        while (seen[s]) {
            if (seen[s] == h) dup = true;
            s = (s + 1) & (cap - 1);
        }
        if (!dup) {
            seen[s] = h;
            return;
        }
    }
}

int ws_catalog_generate(ws_world *w, int n, uint64_t seed, const char *attr_file, hp_err *err) {
    ws_vocab voc = {.arena = &w->arena};
    if (ws_vocab_load(&voc, attr_file, err)) {
        ws_vocab_free(&voc);
        return HP_FAIL;
    }
    ws_gen g = {.w = w, .voc = &voc};
    hp_rng_seed(&g.rng, seed, 0x77656273686f70ull);
    ws_build_pools(&g);
    w->products = hp_xcalloc((size_t)n, sizeof(ws_product));
    w->n_products = n;
    size_t cap = 1;
    while (cap < (size_t)n * 2 + 2) cap <<= 1;
    uint64_t *seen = hp_xcalloc(cap, sizeof(uint64_t));
    int type = 0;
    for (int i = 0; i < n; i++) {
        ws_product *p = &w->products[i];
        const ws_product *model = i > 0 && hp_rng_uniform(&g.rng) < 0.45 ? &w->products[i - 1] : NULL;
        if (!model) type = (int)hp_rng_below(&g.rng, WS_N_TYPES);
        const ws_type *t = &ws_types[type];
        ws_gen_asin(&g, p->asin, seen, cap);
        p->category = t->category;
        p->query = t->query;
        p->product_category = t->path;
        ws_gen_attrs(&g, p, type, model);
        ws_gen_text(&g, p, t);
        ws_gen_options(&g, p, t);
        ws_gen_price(&g, p, t);
        ws_gen_instruction(&g, p);
    }
    free(seen);
    for (int t = 0; t < WS_N_TYPES; t++) free(g.pool[t]);
    hp_buf_free(&g.b);
    ws_vocab_free(&voc);
    snprintf(w->source, sizeof w->source, "procedural catalog (seed %llu, %d products)", (unsigned long long)seed, n);
    return HP_OK;
}
