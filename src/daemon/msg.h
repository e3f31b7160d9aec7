/*
 * daemon/msg.h - message types between talon's processes.
 *
 *   parent <-> smtp worker   CONN_*, STOP, QUEUE_PEER
 *   parent <-> queue         PEER_NEW, DELIVER_PEER, STOP
 *   parent <-> deliver       DELIVER_PEER, STOP
 *   smtp   <-> queue         OPEN, COMMIT, ABORT and their replies
 *   queue  <-> deliver       DELIVER, DELIVER_DONE
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

	/* parent -> queue / deliver: fd = (new) channel to the other one */
	MSG_DELIVER_PEER = 40,
	/* queue -> deliver: fd = the committed spool file (read only);
	 * payload u32 recovering, u32 n, n x u32 recipient index.  id names
	 * the message in the reply. */
	MSG_DELIVER,
	/* deliver -> queue: u32 n, n x (u32 index, u32 errno, str text):
	 * text is the Maildir path on success, the reason on failure */
	MSG_DELIVER_DONE,
};

enum { CONN_OK = 0, CONN_TOO_MANY = 1, CONN_TOO_MANY_IP = 2 };

#endif
