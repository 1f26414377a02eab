#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro Swift does not import.
static inline sqlite3_destructor_type ted_sqlite_transient(void) { return SQLITE_TRANSIENT; }
