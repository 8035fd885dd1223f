/* The server: configuration, the listening socket, the set of connections
 * and the registry. One libevent loop thread runs I/O and the built-in
 * types (see docs/threading.md for why). */
#ifndef MGRD_SERVER_H
#define MGRD_SERVER_H

#include "state.h"

void config_defaults(struct config *cfg);

/* The server without a socket: registry, built-in types, the loop and
 * the hooks (the fuzz target's server). Non-zero on failure (logged). */
int server_init_core(struct server *srv, const struct config *cfg);
/* Creates the socket (or adopts cfg->listen_fd) and the loop. The config is
 * copied. On failure logs why and returns non-zero. */
int server_init(struct server *srv, const struct config *cfg);
/* Runs until stopped; 0 on a clean stop. */
int server_run(struct server *srv);
/* Stop accepting, answer what is in flight, then leave the loop. */
void server_stop(struct server *srv);
void server_fini(struct server *srv);

/* The key named "default" read from fd (all of it, up to EOF; fd closed),
 * into r->key_bytes (the caller frees it with server_key_free): how a
 * program starting mgrd hands it a key without argv or the environment
 * (--auth-key-fd). -1 (logged) if it cannot be read or r has no room. */
int server_key_from_fd(struct config_remote *r, int fd);
void server_key_free(struct config_remote *r);

#endif
