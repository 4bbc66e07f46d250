/* Definitions cppcheck needs because it does not read system headers
 * (make lint). Plain, equivalent forms of the libraries' iteration macros. */
#define cJSON_ArrayForEach(e, a) for ((e) = (a) ? (a)->child : NULL; (e); (e) = (e)->next)
#define cds_lfht_for_each_entry(ht, it, pos, member) for ((pos) = NULL; (pos);)
#define cds_list_for_each_entry(pos, head, member) for ((pos) = NULL; (pos);)
#define cds_list_for_each_entry_safe(pos, p, head, member) for ((pos) = NULL; (pos);)
