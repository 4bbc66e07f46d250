/*
 * signame.h — signals by name, as a config, a request and a snapshot's
 * exit_signal write them ("TERM"). In lib/ beside the registry, whose
 * snapshots are written with them (snapjson.c); proto/proto.h includes
 * this header for the protocol's side.
 *
 * Everything here is safe from any thread.
 */
#ifndef BRM_SIGNAME_H
#define BRM_SIGNAME_H

/*
 * Signals by name: "TERM", "SIGTERM", "term" and "15" all give 15.
 * Returns the signal number or -1.
 */
int brm_signal_parse(const char *s);
/* "TERM" for 15, or NULL for an unknown number. */
const char *brm_signal_name(int signo);

#endif
