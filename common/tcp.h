/* TCP socket options both sides set on a session's connection. */
#ifndef MGR_COMMON_TCP_H
#define MGR_COMMON_TCP_H

/* No Nagle; keepalive probes after idle_s of silence, every intvl_s, 3 of
 * them; data or probes unanswered for user_timeout_ms end the connection
 * (TCP_USER_TIMEOUT). Failures are ignored: the options only bound how
 * long a vanished peer goes unnoticed. */
void tcp_set_liveness(int fd, int idle_s, int intvl_s, unsigned user_timeout_ms);

#endif
