/*
 * channel.h - the ways a code can reach a user: SMS, voice call, WhatsApp
 * and email.
 *
 * Everything inside works with enum bv_channel; names ("sms", ...) exist
 * only where text is read or written: the configuration, the helper's
 * protocol, the PAM environment, the command line and a provider's own
 * API.  A set of channels (what a provider sends by) is a bit mask.
 */
#ifndef BV_CHANNEL_H
#define BV_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * SMS is the zero value on purpose: a state not yet given a channel reads
 * as SMS, the channel every provider has by default.
 */
enum bv_channel {
	BV_CHANNEL_SMS = 0,
	BV_CHANNEL_VOICE,
	BV_CHANNEL_WHATSAPP,
	BV_CHANNEL_EMAIL,
	BV_CHANNEL_COUNT /* not a channel: how many there are */
};

/* The set holding channel c alone; usable in static initialisers. */
#define BV_CHANNEL_BIT(c) (1u << (unsigned)(c))
/* Every channel. */
#define BV_CHANNELS_ALL (BV_CHANNEL_BIT(BV_CHANNEL_COUNT) - 1u)

/*
 * The channel called name ("sms", "voice", "whatsapp", "email"; exact,
 * lower case) into *out.  False, *out untouched, for anything else.
 */
bool channel_parse(const char *name, enum bv_channel *out);

/* Its name in the configuration and on the wire: "sms", ... */
const char *channel_name(enum bv_channel c);

/* What the user reads: "SMS", "voice call", "WhatsApp", "email". */
const char *channel_label(enum bv_channel c);

/* Does c go to an email address (rather than a phone number)? */
bool channel_is_email(enum bv_channel c);

/* Is c in set? */
bool channel_set_has(unsigned set, enum bv_channel c);

/* The first channel of a non-empty set, in enum order. */
enum bv_channel channel_set_first(unsigned set);

/*
 * What a channel name must be, for an error message: "\"sms\", \"voice\",
 * \"whatsapp\" or \"email\"".
 */
const char *channel_expected(void);

#endif /* BV_CHANNEL_H */
