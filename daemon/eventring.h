/*
 * eventring.h — the ring of state and health events behind the `events`
 * method: the loop thread is its one writer (sup/events.c turns the
 * supervisor's publishes into events and appends them), the workers read
 * it lock-free (rpc/events.c), as lib/logring.h's seqlock ring lets any
 * number of readers do while one thread writes.
 *
 * Why here, in daemon/ and in neither sup/ nor rpc/: the ring is the one
 * thing the two sides share, so a worker reads it without including the
 * loop thread's files, and the loop thread writes it without knowing the
 * method; daemon/log.h hands the workers brummd's own log ring the same
 * way. Not in lib/: lib/logring.h is the ring, this is brummd's one
 * instance of it.
 *
 * An event is one ring line, "NAME\n{JSON}": the process's name before the
 * newline lets a reader filter without parsing, and the JSON is sent as it
 * is. The ring's own sequence numbers are the events' "seq" (numbering
 * starts at 1 with each start of brummd).
 *
 * Lifetime: made before the workers start and freed after they have
 * stopped, so a worker reads it without RCU and without a lock.
 */
#ifndef BRM_EVENTRING_H
#define BRM_EVENTRING_H

#include <stddef.h>

struct brm_logring;

#define BRM_EVENTS_RING_DEFAULT (256u << 10)

/*
 * Make the ring of @bytes (lib/logring.h rounds and clamps it; 0: the
 * default) and return it to its writer.
 * Context: loop thread, before the workers start.
 */
struct brm_logring *brm_eventring_create(size_t bytes);
/* Free the ring. Context: loop thread, after the workers have stopped. */
void brm_eventring_destroy(void);
/*
 * The ring, for reading only; NULL before brm_eventring_create() and
 * after brm_eventring_destroy(). Context: any thread.
 */
const struct brm_logring *brm_eventring(void);

#endif
