/* systemd's two service protocols, spoken without libsystemd: socket
 * activation (the listening socket arrives as fd 3, announced by
 * LISTEN_PID and LISTEN_FDS) and readiness notification (a datagram
 * "READY=1" to the socket named by $NOTIFY_SOCKET). */
#ifndef MGRD_ACTIVATION_H
#define MGRD_ACTIVATION_H

/* The socket passed by the service manager, or -1 if there is none (the
 * variables are for another process, or absent). The variables are
 * removed so that children do not take them as theirs. */
int activation_listen_fd(void);
/* Sends state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET if it is set;
 * 0, or -1 if it could not be sent. */
int activation_notify(const char *state);

#endif
