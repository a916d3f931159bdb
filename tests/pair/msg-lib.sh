# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lines between the two VMs of a pair, over TCP on eth0: the side that
# drives a pair test (the client, the host) tells the other (the server,
# the target) when to act and when it is done, or that it failed.
# Sourced after tests/vm/lib.sh by tests/pair/*.sh, never run.

# msg_listen <port> <file>: in the background, append each line received
# on <port> (one a connection) to <file>, emptied first.  Sets MSG_FILE
# and MSG_LISTENER (the listener's pid; msg_stop ends it).
msg_listen() {
	MSG_FILE=$2
	: > "$MSG_FILE"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    line = c.makefile().readline()
    c.close()
    with open(sys.argv[2], "a") as f:
        f.write(line.strip() + "\n")
' "$1" "$MSG_FILE" &
	MSG_LISTENER=$!
	wait_listen "$1" || fail "the message listener did not start"
}

msg_stop() {
	[ -z "${MSG_LISTENER:-}" ] || kill "$MSG_LISTENER" 2> /dev/null || true
	MSG_LISTENER=
}

# msg_wait <word> <seconds>: wait for the line <word>; a line "fail"
# from the peer ends this side too.
msg_wait() {
	local deadline=$((SECONDS + $2))

	while [ $SECONDS -lt $deadline ]; do
		grep -qx fail "$MSG_FILE" 2> /dev/null &&
			fail "the peer reported a failure"
		grep -qx "$1" "$MSG_FILE" 2> /dev/null && return 0
		sleep 0.2
	done
	fail "no \"$1\" from the peer in $2 s"
}

# msg_send <port> <word>: one line to the peer's <port>, retried for 30 s.
msg_send() {
	local i

	for i in $(seq 30); do
		echo "$2" 2> /dev/null > "/dev/tcp/$SROCE_PEER_IP4/$1" &&
			return 0
		sleep 1
	done
	echo "cannot tell the peer \"$2\"" >&2
	return 1
}
