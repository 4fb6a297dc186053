/*
 * canon.h - DKIM canonicalization (RFC 6376 section 3.4) and the header
 * block a signature hashes (section 5.4.2)
 *
 * Header fields are canonicalized one at a time into a caller's buffer.
 * Bodies are canonicalized as a stream: canon_body_update() takes raw
 * chunks of any size and hands canonical bytes to the caller's output
 * function; the state is a few flags and a counter, whatever the body.
 * Both accept CRLF and bare LF line ends (a bare LF counts as CRLF).
 *
 * struct canon_hdrs keeps a message's raw header fields, in order, for
 * the signature code to pick from the bottom up.  It is embedded in the
 * caller's context (canon_hdrs_init/_free); the fields are copied.
 */
#ifndef COMMON_CANON_H
#define COMMON_CANON_H

#include <stddef.h>

#include "buf.h"

enum canon_alg {
	CANON_SIMPLE = 0,
	CANON_RELAXED,
};

#define CANON_HDRS_MAX_FIELDS	10000		/* fields kept per message */
#define CANON_HDRS_MAX_BYTES	(4u << 20)	/* header bytes kept */

/* canon_parse - a c= value ("relaxed/simple", "relaxed"); 0 or -1 */
int	canon_parse(const char *s, size_t len, enum canon_alg *hdr,
	    enum canon_alg *body);
const char *canon_name(enum canon_alg);

/* canon_header - append the canonical form of one raw "Name: value"
 * field (no final line break in or out); 0 or -1 (out of memory) */
int	canon_header(enum canon_alg, const char *field, size_t len,
	    struct buf *out);

typedef void canon_out_fn(void *arg, const unsigned char *, size_t);
struct canon_body;

/* canon_body_new - NULL when out of memory; free with canon_body_free */
struct canon_body *canon_body_new(enum canon_alg, canon_out_fn *, void *arg);
void	canon_body_update(struct canon_body *, const unsigned char *, size_t);
/* canon_body_final - flush the end of the body; call once */
void	canon_body_final(struct canon_body *);
void	canon_body_free(struct canon_body *);

struct canon_hdr {
	size_t	off;			/* into text */
	size_t	len;			/* the whole field */
	size_t	name_len;		/* the name, trailing WSP excluded */
};

struct canon_hdrs {
	struct buf	  text;
	struct canon_hdr *f;
	size_t		  n, cap;
	int		  overflow;	/* a limit was hit: fields were lost */
	int		  failed;	/* out of memory */
};

void	canon_hdrs_init(struct canon_hdrs *);
/* canon_hdrs_add - keep one field; 0 or -1 (limit or memory) */
int	canon_hdrs_add(struct canon_hdrs *, const char *field, size_t len);
/* canon_hdrs_field - the i-th field and its length */
const char *canon_hdrs_field(const struct canon_hdrs *, size_t i,
	    size_t *len);
/* canon_hdrs_name_is - 1 when field i has this name (case-insensitive) */
int	canon_hdrs_name_is(const struct canon_hdrs *, size_t i,
	    const char *name, size_t nlen);
/* canon_hdrs_pick - the bottom-most field named name that used[] (one
 * byte per field, zeroed by the caller) does not mark yet; marks it and
 * returns its index, or -1 when every such field is used */
long	canon_hdrs_pick(const struct canon_hdrs *, const char *name,
	    size_t nlen, unsigned char *used);
void	canon_hdrs_free(struct canon_hdrs *);

#endif
