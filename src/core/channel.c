/*
 * channel.c - channel names and labels, in one table.
 */
#include "config.h"

#include <string.h>

#include "channel.h"

static const struct {
	const char *name;  /* configuration, protocol, environment */
	const char *label; /* the user's lines */
} channels[BV_CHANNEL_COUNT] = {
    [BV_CHANNEL_SMS] = {"sms", "SMS"},
    [BV_CHANNEL_VOICE] = {"voice", "voice call"},
    [BV_CHANNEL_WHATSAPP] = {"whatsapp", "WhatsApp"},
    [BV_CHANNEL_EMAIL] = {"email", "email"},
};

/* A value from outside the enum (a corrupted state) reads as SMS. */
static size_t
index_of(enum bv_channel c)
{
	return (unsigned)c < BV_CHANNEL_COUNT ? (size_t)c : 0;
}

bool
channel_parse(const char *name, enum bv_channel *out)
{
	size_t i;

	for (i = 0; name != NULL && i < BV_CHANNEL_COUNT; i++)
		if (strcmp(channels[i].name, name) == 0) {
			*out = (enum bv_channel)i;
			return true;
		}
	return false;
}

const char *
channel_name(enum bv_channel c)
{
	return channels[index_of(c)].name;
}

const char *
channel_label(enum bv_channel c)
{
	return channels[index_of(c)].label;
}

bool
channel_is_email(enum bv_channel c)
{
	return c == BV_CHANNEL_EMAIL;
}

bool
channel_set_has(unsigned set, enum bv_channel c)
{
	return (unsigned)c < BV_CHANNEL_COUNT && (set & BV_CHANNEL_BIT(c)) != 0;
}

enum bv_channel
channel_set_first(unsigned set)
{
	size_t i;

	for (i = 0; i < BV_CHANNEL_COUNT; i++)
		if ((set & BV_CHANNEL_BIT(i)) != 0)
			return (enum bv_channel)i;
	return BV_CHANNEL_SMS;
}

const char *
channel_expected(void)
{
	return "\"sms\", \"voice\", \"whatsapp\" or \"email\"";
}
