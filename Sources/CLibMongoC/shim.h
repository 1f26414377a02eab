#include <mongoc/mongoc.h>
#include <stdlib.h>
#include <string.h>

// Debian builds libbson with BSON_EXTRA_ALIGN: bson_t is 128-byte aligned and Swift imports
// bson_t * as OpaquePointer. These helpers give Swift what it needs without touching the layout.

static inline size_t ted_bson_size(void) { return sizeof(bson_t); }
static inline size_t ted_bson_alignment(void) { return _Alignof(bson_t); }

/// Storage for an out-parameter reply that libmongoc initialises itself. Free with ted_bson_free_storage.
static inline bson_t *ted_bson_alloc_storage(void) {
    void *p = NULL;
    if (posix_memalign(&p, _Alignof(bson_t), sizeof(bson_t)) != 0) return NULL;
    memset(p, 0, sizeof(bson_t));
    bson_init((bson_t *)p);
    return (bson_t *)p;
}
static inline void ted_bson_free_storage(bson_t *b) {
    if (b) { bson_destroy(b); free(b); }
}

/// A read-only view of Swift-owned bytes; the bytes must outlive the view.
static inline bson_t *ted_bson_view(const uint8_t *data, size_t len) {
    bson_t *b = NULL;
    void *p = NULL;
    if (posix_memalign(&p, _Alignof(bson_t), sizeof(bson_t)) != 0) return NULL;
    b = (bson_t *)p;
    if (!bson_init_static(b, data, len)) { free(p); return NULL; }
    return b;
}

static inline const uint8_t *ted_bson_data(const bson_t *b) { return bson_get_data(b); }
static inline uint32_t ted_bson_len(const bson_t *b) { return b->len; }

static inline uint32_t ted_bson_error_domain(const bson_error_t *e) { return e->domain; }
static inline uint32_t ted_bson_error_code(const bson_error_t *e) { return e->code; }
static inline const char *ted_bson_error_message(const bson_error_t *e) { return e->message; }
