/* placeholder, replaced when the search module lands */
#include "imap/msession.h"

void
m_cmd_search(struct msession *s, struct imap_cmd *c, bool uid)
{
	m_tagged(s, c->tag, "NO [CANNOT] SEARCH is not available yet");
}
