/*
 * fuzz_spf_record - SPF record parser and macro expander on arbitrary bytes
 *
 * The input is parsed as a TXT record ("v=spf1" is prepended when it is
 * missing, so that most inputs reach the term parser); every domain-spec
 * of the result is expanded in a fixed environment, and the whole input
 * is also expanded as explanation text.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* validated - a %{p} answer that needs no DNS */
static int
validated(void *arg, const char *domain, struct buf *out)
{
	(void)arg;
	buf_puts(out, "mx.");
	buf_puts(out, domain);
	return 0;
}

/* expand - expand one domain-spec and check the result stays bounded */
static void
expand(const struct spf_macro_env *env, const char *spec, int kind)
{
	struct buf b = BUF_INIT;

	if (spec == NULL)
		return;
	if (spf_macro_expand(env, spec, strlen(spec), kind, &b) == 0 &&
	    b.len > SPF_MAX_EXPANSION)
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_macro_env env;
	struct spf_record *r = NULL;
	struct buf text = BUF_INIT, out = BUF_INIT;
	size_t i;

	memset(&env, 0, sizeof(env));
	env.local = "strong-bad";
	env.sender_domain = env.domain = "email.example.com";
	env.helo = "mx.example.org";
	env.now = 1234567890;
	env.family = (size % 2) ? AF_INET6 : AF_INET;
	inet_pton(env.family, env.family == AF_INET ? "192.0.2.3" :
	    "2001:db8::cb01", env.addr);
	env.validated = validated;

	if (!spf_record_is_spf((const char *)data, size))
		buf_puts(&text, "v=spf1 ");
	buf_append(&text, data, size);
	if (!text.failed && spf_record_parse(text.s, text.len, &r, NULL) ==
	    SPF_PARSE_OK) {
		for (i = 0; i < r->n; i++)
			expand(&env, r->terms[i].domain, SPF_MACRO_DOMAIN);
		expand(&env, r->redirect, SPF_MACRO_DOMAIN);
		expand(&env, r->exp, SPF_MACRO_DOMAIN);
		spf_record_free(r);
	}
	if ((spf_macro_check((const char *)data, size, SPF_MACRO_EXP) == 0) !=
	    (spf_macro_expand(&env, (const char *)data, size, SPF_MACRO_EXP,
	    &out) == 0) && !out.failed && out.len <= SPF_MAX_EXPANSION)
		abort();
	buf_free(&out);
	buf_free(&text);
	return 0;
}
