/*
 * verdict - filling a verdict: codes kept, text copied and cut at
 * VERDICT_TEXT_MAX, NULL text empty; every action has a name
 */
#include <string.h>

#include "verdict.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		enum verdict_action a;
		const char *name;
	} names[] = {
		{ VERDICT_CONTINUE, "continue" },
		{ VERDICT_ACCEPT, "accept" },
		{ VERDICT_REJECT, "reject" },
		{ VERDICT_TEMPFAIL, "tempfail" },
		{ VERDICT_DISCARD, "discard" },
		{ VERDICT_QUARANTINE, "quarantine" },
		{ (enum verdict_action)99, "?" },
	};
	char long_text[VERDICT_TEXT_MAX * 2];
	struct verdict v;
	size_t i;

	verdict_set(&v, VERDICT_REJECT, "550", "5.7.20", "No signature");
	ok(v.action == VERDICT_REJECT && strcmp(v.rcode, "550") == 0 &&
	    strcmp(v.xcode, "5.7.20") == 0 && strcmp(v.text, "No signature")
	    == 0, "a refusal keeps its codes and text");
	memset(&v, 'x', sizeof(v));
	verdict_set(&v, VERDICT_CONTINUE, NULL, NULL, NULL);
	ok(v.action == VERDICT_CONTINUE && v.rcode == NULL && v.xcode == NULL &&
	    v.text[0] == '\0', "continue: no codes, empty text");
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	verdict_set(&v, VERDICT_TEMPFAIL, "451", "4.3.0", long_text);
	is_int((long)strlen(v.text), VERDICT_TEXT_MAX,
	    "a long text is cut at VERDICT_TEXT_MAX");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		is_str(verdict_name(names[i].a), names[i].name,
		    names[i].name);
	return done_testing();
}
