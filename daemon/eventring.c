/*
 * eventring.c — the ring of state and health events (eventring.h): made
 * and freed by the loop thread, appended to by sup/events.c, read by
 * rpc/events.c.
 */
#include "daemon/eventring.h"
#include "lib/logring.h"

/* Set before the workers start and cleared after they have stopped: the
 * threads' start and join order every access, so a plain pointer does. */
static struct brm_logring *ring;

struct brm_logring *brm_eventring_create(size_t bytes)
{
	ring = brm_logring_create(bytes ? bytes : BRM_EVENTS_RING_DEFAULT);
	return ring;
}

void brm_eventring_destroy(void)
{
	brm_logring_destroy(ring);
	ring = NULL;
}

const struct brm_logring *brm_eventring(void)
{
	return ring;
}
