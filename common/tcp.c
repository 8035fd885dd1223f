/* TCP socket options both sides set (see tcp.h). */
#include "tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

void tcp_set_liveness(int fd, int idle_s, int intvl_s, unsigned user_timeout_ms)
{
	int one = 1, cnt = 3;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl_s, sizeof(intvl_s));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

/* The IPv4 address in sa (v4-mapped IPv6 included), or 0 (none). */
static in_addr_t tcp_v4(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (sa->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a))
		return ntohl(((const uint32_t *)a->s6_addr)[3]);
	return 0;
}

static bool tcp_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr))
		return true;
	return (tcp_v4(sa) >> 24) == 127;
}

static bool tcp_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

bool tcp_peer_local(int fd)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	if (getsockname(fd, (struct sockaddr *)&me, &ml) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl))
		return false;
	return tcp_loopback(&peer) || tcp_same_host(&me, &peer);
}
