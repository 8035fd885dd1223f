/* Snapshots (mgrd --snapshot FILE): the named objects whose types have
 * save/load hooks, kept across restarts. The file format is in
 * docs/snapshot.md. Everything here runs on the loop thread. */
#ifndef MGRD_SNAPSHOT_H
#define MGRD_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/value.h"

struct server;

/* What one save wrote. */
struct snapshot_stats {
	uint32_t objects; /* records written */
	uint32_t skipped; /* custom objects busy in a method: not in this save */
	uint64_t bytes;   /* file size */
};

/* At start, while the registry is empty: loads cfg.snapshot_path if it
 * exists and removes a leftover temporary file. A bad file is an error
 * (logged, naming the file and the fault; returns -1) unless
 * cfg.ignore_bad_snapshot: then it is renamed FILE.bad, a warning logged,
 * and the server starts empty. */
int snapshot_load(struct server *srv);
/* Once the server is ready: arms the final save and the interval timer. */
int snapshot_start(struct server *srv);
/* Writes the snapshot now (atomically). 0, or an mgr_err with a message in
 * err; st may be NULL. */
int snapshot_save(struct server *srv, struct snapshot_stats *st, char *err, size_t errlen);
/* At the end (server_fini, no call running): the final save, if armed. */
void snapshot_fini(struct server *srv);


#endif
