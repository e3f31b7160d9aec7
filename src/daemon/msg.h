/*
 * daemon/msg.h - message types between talon's processes.
 *
 *   parent <-> smtp worker   CONN_*, STOP, QUEUE_PEER
 *   parent <-> queue         PEER_NEW, STOP
 *   smtp   <-> queue         OPEN, COMMIT, ABORT and their replies
 *
 * Every request carries an id (the smtp session id); replies carry the
 * same id, and a session that died meanwhile simply has no entry.
 */
#ifndef TALON_MSG_H
#define TALON_MSG_H

enum msg_type {
	/* smtp -> parent: may this client connect?  payload: sockaddr bytes */
	MSG_CONN_ASK = 1,
	/* parent -> smtp: u32 verdict (CONN_OK, CONN_TOO_MANY, CONN_TOO_MANY_IP) */
	MSG_CONN_REPLY,
	/* smtp -> parent: the session ended.  payload: sockaddr bytes */
	MSG_CONN_END,
	/* parent -> child: stop accepting, finish, exit.  payload: u32 grace s */
	MSG_STOP,
	/* parent -> smtp: fd = new channel to the (restarted) queue */
	MSG_QUEUE_PEER,
	/* parent -> queue: fd = channel to a new smtp worker, id = worker slot */
	MSG_PEER_NEW,

	/* smtp -> queue: open a new spool file.  reply OPEN_OK with the fd and
	 * payload str qid, or OPEN_FAIL with u32 errno */
	MSG_OPEN = 20,
	MSG_OPEN_OK,
	MSG_OPEN_FAIL,
	/* smtp -> queue: the file named by str qid is complete (u64 size);
	 * make it durable.  reply COMMIT_OK or COMMIT_FAIL (u32 errno) */
	MSG_COMMIT,
	MSG_COMMIT_OK,
	MSG_COMMIT_FAIL,
	/* smtp -> queue: drop the open file str qid (RSET, error, client gone) */
	MSG_ABORT,
};

enum { CONN_OK = 0, CONN_TOO_MANY = 1, CONN_TOO_MANY_IP = 2 };

#endif
