/* TCP socket options both sides set on a session's connection. */
#ifndef MGR_COMMON_TCP_H
#define MGR_COMMON_TCP_H

#include <stdbool.h>

/* No Nagle; keepalive probes after idle_s of silence, every intvl_s, 3 of
 * them; data or probes unanswered for user_timeout_ms end the connection
 * (TCP_USER_TIMEOUT). Failures are ignored: the options only bound how
 * long a vanished peer goes unnoticed. */
void tcp_set_liveness(int fd, int idle_s, int intvl_s, unsigned user_timeout_ms);

/* Whether fd's peer is on this host: a loopback address (127.0.0.0/8, ::1,
 * either v4-mapped) or the address fd itself has. False if unknown. */
bool tcp_peer_local(int fd);

#endif
