/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-packet.c — parse and write peering packets under hard limits
 *
 * Everything here runs on bytes from anyone on the LAN, so the parser checks the size and
 * the UTF-8 first, lets GMarkup do the XML (it knows no DOCTYPE and no entity beyond the
 * predefined ones, so no expansion attack), refuses anything but one childless element,
 * and then checks each attribute against one table that the writer shares.
 */
#include "kith-packet.h"

#include <string.h>

#include "kith-hex.h"
#include "kith-peering-error.h"

typedef enum {
  FIELD_KIND_TYPE,
  FIELD_KIND_VERSION,
  FIELD_KIND_UINT32,
  FIELD_KIND_UINT64,
  FIELD_KIND_BOOL,
  FIELD_KIND_METHOD,
  FIELD_KIND_TEXT,
  FIELD_KIND_HEX,
  FIELD_KIND_BASE64,
} FieldKind;

/* Indexes into fields[], also bit numbers in the presence masks. */
typedef enum {
  F_TYPE,
  F_VERSION,
  F_ID,
  F_NODE,
  F_METHOD,
  F_HREF,
  F_ACCEPTPROTOCOL,
  F_CACHEDONLY,
  F_WANT,
  F_ALIAS,
  F_SIZE,
  F_SHA256,
  F_CERT,
  F_SIG,
  F_INTERVAL,
  F_DONE,
  F_TOTAL,
  F_HOLDER,
  F_LAST
} FieldId;

typedef struct {
  const gchar *name;
  FieldKind kind;
  gsize offset;   /* into KithPacket */
  gsize hex_len;  /* FIELD_KIND_HEX only */
} FieldInfo;

#define FIELD(n, k, member, h) [F_##n] = { #member, FIELD_KIND_##k, G_STRUCT_OFFSET (KithPacket, member), h }
static const FieldInfo fields[F_LAST] = {
  [F_TYPE] = { "type", FIELD_KIND_TYPE, G_STRUCT_OFFSET (KithPacket, type), 0 },
  [F_VERSION] = { "version", FIELD_KIND_VERSION, 0, 0 },
  FIELD (ID, UINT32, id, 0),
  FIELD (NODE, HEX, node, KITH_PACKET_NODE_LEN),
  FIELD (METHOD, METHOD, method, 0),
  FIELD (HREF, TEXT, href, 0),
  FIELD (ACCEPTPROTOCOL, TEXT, acceptprotocol, 0),
  FIELD (CACHEDONLY, BOOL, cachedonly, 0),
  FIELD (WANT, TEXT, want, 0),
  FIELD (ALIAS, TEXT, alias, 0),
  FIELD (SIZE, UINT64, size, 0),
  FIELD (SHA256, HEX, sha256, KITH_PACKET_SHA256_LEN),
  FIELD (CERT, BASE64, cert, 0),
  FIELD (SIG, BASE64, sig, 0),
  FIELD (INTERVAL, UINT32, interval, 0),
  FIELD (DONE, UINT64, done, 0),
  FIELD (TOTAL, UINT64, total, 0),
  FIELD (HOLDER, HEX, holder, KITH_PACKET_NODE_LEN),
};
#undef FIELD

/* Strings are owned by the packet and checked by check_string(); the other kinds are values. */
static gboolean
field_is_string (const FieldInfo *field)
{
  return field->kind == FIELD_KIND_TEXT || field->kind == FIELD_KIND_HEX ||
         field->kind == FIELD_KIND_BASE64;
}

#define BIT(f) (1u << (F_##f))
#define COMMON (BIT (TYPE) | BIT (VERSION) | BIT (NODE))
/* What each type must carry; documented in kith-packet.h, keep both in step. */
static const guint32 required[KITH_PACKET_TYPE_LAST] = {
  [KITH_PACKET_TYPE_REQUEST] = COMMON | BIT (ID) | BIT (HREF),
  [KITH_PACKET_TYPE_RESPONSE] = COMMON | BIT (ID) | BIT (ALIAS),
  [KITH_PACKET_TYPE_FOUND] = COMMON | BIT (ID),
  [KITH_PACKET_TYPE_DOWNLOADING] = COMMON | BIT (HREF) | BIT (ALIAS) | BIT (DONE),
  [KITH_PACKET_TYPE_COMPLETE] = COMMON | BIT (HREF) | BIT (ALIAS) | BIT (SIZE) | BIT (SHA256),
  [KITH_PACKET_TYPE_END_REQUEST] = COMMON | BIT (ID),
};
/* Written even when at their default value, so other implementations need not guess. */
static const guint32 always_written[KITH_PACKET_TYPE_LAST] = {
  [KITH_PACKET_TYPE_REQUEST] = BIT (METHOD),
  [KITH_PACKET_TYPE_DOWNLOADING] = BIT (TOTAL),
};

static const gchar *const type_names[KITH_PACKET_TYPE_LAST] = {
  [KITH_PACKET_TYPE_REQUEST] = "request",
  [KITH_PACKET_TYPE_RESPONSE] = "response",
  [KITH_PACKET_TYPE_FOUND] = "found",
  [KITH_PACKET_TYPE_DOWNLOADING] = "downloading",
  [KITH_PACKET_TYPE_COMPLETE] = "complete",
  [KITH_PACKET_TYPE_END_REQUEST] = "end-request",
};

const gchar *
kith_packet_type_to_string (KithPacketType type)
{
  if ((guint) type >= KITH_PACKET_TYPE_LAST)
    return NULL;
  return type_names[type];
}

KithPacketType
kith_packet_type_from_string (const gchar *str)
{
  if (str == NULL)
    return KITH_PACKET_TYPE_UNKNOWN;
  for (guint i = KITH_PACKET_TYPE_UNKNOWN + 1; i < KITH_PACKET_TYPE_LAST; i++) {
    if (strcmp (str, type_names[i]) == 0)
      return (KithPacketType) i;
  }
  return KITH_PACKET_TYPE_UNKNOWN;
}

static const gchar *const method_names[] = {
  [KITH_PACKET_METHOD_GET] = "get",
  [KITH_PACKET_METHOD_POST] = "post",
};

const gchar *
kith_packet_method_to_string (KithPacketMethod method)
{
  if ((guint) method >= G_N_ELEMENTS (method_names))
    return NULL;
  return method_names[method];
}

KithPacket *
kith_packet_new (KithPacketType type)
{
  KithPacket *packet = g_new0 (KithPacket, 1);
  packet->type = type;
  packet->version_major = KITH_PACKET_VERSION_MAJOR;
  packet->version_minor = KITH_PACKET_VERSION_MINOR;
  packet->method = KITH_PACKET_METHOD_GET;
  return packet;
}

void
kith_packet_free (KithPacket *packet)
{
  if (packet == NULL)
    return;
  for (guint i = 0; i < F_LAST; i++) {
    if (field_is_string (&fields[i]))
      g_free (G_STRUCT_MEMBER (gchar *, packet, fields[i].offset));
  }
  g_free (packet);
}

/* Plain decimal only: strtoull would also take spaces, signs, "0x" and octal. A leading
 * zero is refused so that every number has exactly one spelling on the wire. */
static gboolean
parse_decimal (const gchar *str, gsize len, guint64 max, guint64 *out)
{
  guint64 value = 0;
  if (len == 0 || len > 20 || (str[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    guint digit;
    if (!g_ascii_isdigit (str[i]))
      return FALSE;
    digit = (guint) (str[i] - '0');
    if (value > (max - digit) / 10)
      return FALSE;
    value = value * 10 + digit;
  }
  *out = value;
  return TRUE;
}

static gboolean
parse_version (const gchar *str, guint *major, guint *minor)
{
  const gchar *dot = strchr (str, '.');
  guint64 ma, mi;
  if (dot == NULL || !parse_decimal (str, (gsize) (dot - str), G_MAXUINT16, &ma) ||
      !parse_decimal (dot + 1, strlen (dot + 1), G_MAXUINT16, &mi))
    return FALSE;
  *major = (guint) ma;
  *minor = (guint) mi;
  return TRUE;
}

/* The form a string field must have, on the way in and on the way out. */
static gboolean
check_string (const FieldInfo *field, const gchar *str)
{
  if (field->kind == FIELD_KIND_HEX)
    return kith_hex_is_valid (str, field->hex_len, field->hex_len);
  if (str[0] == '\0')
    return FALSE;
  for (gsize i = 0; str[i] != '\0'; i++) {
    guchar c = (guchar) str[i];
    switch (field->kind) {
    case FIELD_KIND_BASE64:
      if (!g_ascii_isalnum (c) && c != '+' && c != '/' && c != '=')
        return FALSE;
      break;
    default:
      /* control characters have no place in URLs or tokens, nor in our logs */
      if (c < 0x20 || c == 0x7f)
        return FALSE;
      break;
    }
  }
  return TRUE;
}

/* Stores @value of a numeric, bool or method field; string fields are copied as they are
 * and checked later by validate(), which the writer shares. */
static gboolean
field_set (KithPacket *packet, const FieldInfo *field, const gchar *value)
{
  guint64 v;
  switch (field->kind) {
  case FIELD_KIND_UINT32:
    if (!parse_decimal (value, strlen (value), G_MAXUINT32, &v))
      return FALSE;
    G_STRUCT_MEMBER (guint32, packet, field->offset) = (guint32) v;
    return TRUE;
  case FIELD_KIND_UINT64:
    return parse_decimal (value, strlen (value), G_MAXUINT64,
                          &G_STRUCT_MEMBER (guint64, packet, field->offset));
  case FIELD_KIND_BOOL:
    if (g_strcmp0 (value, "true") != 0 && g_strcmp0 (value, "false") != 0)
      return FALSE;
    G_STRUCT_MEMBER (gboolean, packet, field->offset) = value[0] == 't';
    return TRUE;
  case FIELD_KIND_METHOD:
    for (guint m = 0; m < G_N_ELEMENTS (method_names); m++) {
      if (strcmp (value, method_names[m]) == 0) {
        packet->method = (KithPacketMethod) m;
        return TRUE;
      }
    }
    return FALSE;
  case FIELD_KIND_TEXT:
  case FIELD_KIND_HEX:
  case FIELD_KIND_BASE64:
    G_STRUCT_MEMBER (gchar *, packet, field->offset) = g_strdup (value);
    return TRUE;
  case FIELD_KIND_TYPE:
  case FIELD_KIND_VERSION:
    break;
  }
  g_assert_not_reached ();
  return FALSE;
}

/* The checks parse and write share: @present is the mask of fields given. */
static gboolean
validate (const KithPacket *packet, guint32 present, GError **error)
{
  guint32 missing;
  if ((guint) packet->type >= KITH_PACKET_TYPE_LAST || packet->type == KITH_PACKET_TYPE_UNKNOWN) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE,
                 "unknown packet type %d", (gint) packet->type);
    return FALSE;
  }
  missing = required[packet->type] & ~present;
  if (missing != 0) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE,
                 "%s packet without %s", type_names[packet->type],
                 fields[g_bit_nth_lsf (missing, -1)].name);
    return FALSE;
  }
  for (guint i = 0; i < F_LAST; i++) {
    const gchar *str;
    if (!field_is_string (&fields[i]))
      continue;
    str = G_STRUCT_MEMBER (const gchar *, packet, fields[i].offset);
    if (str != NULL && !check_string (&fields[i], str)) {
      g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_BAD_VALUE,
                   "invalid %s", fields[i].name);
      return FALSE;
    }
  }
  if (packet->total != 0 && packet->done > packet->total) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_BAD_VALUE,
                 "done %" G_GUINT64_FORMAT " beyond total %" G_GUINT64_FORMAT,
                 packet->done, packet->total);
    return FALSE;
  }
  return TRUE;
}

static gint
field_lookup (const gchar *name)
{
  for (guint i = 0; i < F_LAST; i++) {
    if (strcmp (name, fields[i].name) == 0)
      return (gint) i;
  }
  return -1;
}

typedef struct {
  KithPacket *packet;
  gboolean seen_element;
} ParseHelper;

/* Sorts the attributes by field, refusing duplicates; unknown ones are skipped (newer
 * minor versions may add some) but still counted and checked for duplicates. */
static gboolean
collect_attributes (const gchar **names, const gchar **values, const gchar **by_field,
                    guint32 *present, GError **error)
{
  for (guint i = 0; names[i] != NULL; i++) {
    gint f;
    if (i >= KITH_PACKET_MAX_ATTRIBUTES) {
      g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_TOO_MANY_ATTRIBUTES,
                   "more than %d attributes", KITH_PACKET_MAX_ATTRIBUTES);
      return FALSE;
    }
    f = field_lookup (names[i]);
    if (f >= 0 && (*present & (1u << f)) == 0) {
      *present |= 1u << f;
      by_field[f] = values[i];
      continue;
    }
    for (guint j = 0; f < 0 && j < i; j++) {
      if (strcmp (names[i], names[j]) == 0)
        f = 0;
    }
    if (f >= 0) {
      g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE,
                   "duplicate attribute %s", names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Version first: a future major version may have types and rules we cannot know. */
static gboolean
check_version_and_type (KithPacket *packet, const gchar **by_field, GError **error)
{
  if (by_field[F_VERSION] == NULL) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE,
                         "packet without version");
    return FALSE;
  }
  if (!parse_version (by_field[F_VERSION], &packet->version_major, &packet->version_minor)) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_BAD_VALUE,
                         "invalid version");
    return FALSE;
  }
  if (packet->version_major != KITH_PACKET_VERSION_MAJOR) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_VERSION,
                 "protocol version %u.%u, we speak %d.x", packet->version_major,
                 packet->version_minor, KITH_PACKET_VERSION_MAJOR);
    return FALSE;
  }
  if (by_field[F_TYPE] == NULL) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE,
                         "packet without type");
    return FALSE;
  }
  packet->type = kith_packet_type_from_string (by_field[F_TYPE]);
  if (packet->type == KITH_PACKET_TYPE_UNKNOWN) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE,
                         "unknown packet type");
    return FALSE;
  }
  return TRUE;
}

static void
parse_start_element (GMarkupParseContext *context, const gchar *element_name,
                     const gchar **names, const gchar **values, gpointer user_data,
                     GError **error)
{
  ParseHelper *helper = user_data;
  const gchar *by_field[F_LAST] = { NULL };
  guint32 present = 0;

  /* a second element is either a child or a second root: both refused, so the
   * parser never goes deeper than one level whatever the input */
  if (helper->seen_element) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                         "more than one element");
    return;
  }
  helper->seen_element = TRUE;
  if (strcmp (element_name, "service") != 0) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                         "element is not <service>");
    return;
  }
  if (!collect_attributes (names, values, by_field, &present, error))
    return;
  if (!check_version_and_type (helper->packet, by_field, error))
    return;
  for (guint i = F_VERSION + 1; i < F_LAST; i++) {
    if (by_field[i] != NULL && !field_set (helper->packet, &fields[i], by_field[i])) {
      g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_BAD_VALUE,
                   "invalid %s", fields[i].name);
      return;
    }
  }
  validate (helper->packet, present, error);
}

static void
parse_text (GMarkupParseContext *context, const gchar *text, gsize text_len,
            gpointer user_data, GError **error)
{
  for (gsize i = 0; i < text_len; i++) {
    if (!g_ascii_isspace (text[i])) {
      g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                           "text content");
      return;
    }
  }
}

/* Comments, CDATA, processing instructions, the XML declaration and DOCTYPE: a packet is
 * one element and nothing else, which also keeps internal DTD subsets out entirely. */
static void
parse_passthrough (GMarkupParseContext *context, const gchar *text, gsize text_len,
                   gpointer user_data, GError **error)
{
  g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                       "markup other than one element");
}

static const GMarkupParser packet_parser = {
  .start_element = parse_start_element,
  .text = parse_text,
  .passthrough = parse_passthrough,
};

/* GMarkup's own errors (syntax, truncation, unknown entities) all mean "malformed". */
static void
propagate_markup_error (GError **error, GError *markup_error)
{
  if (markup_error->domain != KITH_PEERING_ERROR) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                 "not well-formed: %s", markup_error->message);
    g_error_free (markup_error);
    return;
  }
  g_propagate_error (error, markup_error);
}

KithPacket *
kith_packet_parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_UNKNOWN);
  ParseHelper helper = { .packet = packet };
  g_autoptr (GMarkupParseContext) context = NULL;
  GError *markup_error = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > KITH_PACKET_MAX_SIZE) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_TOO_LARGE,
                 "packet of %" G_GSIZE_FORMAT " bytes, at most %d allowed", len,
                 KITH_PACKET_MAX_SIZE);
    return NULL;
  }
  if (len == 0) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                         "empty packet");
    return NULL;
  }
  /* also refuses NUL, which GMarkup would otherwise report as bad syntax */
  if (!g_utf8_validate_len ((const gchar *) data, len, NULL)) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_NOT_UTF8,
                         "packet is not valid UTF-8");
    return NULL;
  }
  context = g_markup_parse_context_new (&packet_parser, 0, &helper, NULL);
  if (!g_markup_parse_context_parse (context, (const gchar *) data, (gssize) len, &markup_error) ||
      !g_markup_parse_context_end_parse (context, &markup_error)) {
    propagate_markup_error (error, markup_error);
    return NULL;
  }
  if (!helper.seen_element) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_MALFORMED,
                         "no element");
    return NULL;
  }
  return g_steal_pointer (&packet);
}

/* Enough for a double-quoted attribute value; control characters never get here,
 * validate() refuses them. */
static void
append_escaped (GString *out, const gchar *str)
{
  for (const gchar *p = str; *p != '\0'; p++) {
    switch (*p) {
    case '&':
      g_string_append (out, "&amp;");
      break;
    case '<':
      g_string_append (out, "&lt;");
      break;
    case '"':
      g_string_append (out, "&quot;");
      break;
    default:
      g_string_append_c (out, *p);
      break;
    }
  }
}

/* Appends field @i unless it is absent and the type does not insist on it. */
static void
append_field (GString *out, const KithPacket *packet, guint i)
{
  const FieldInfo *field = &fields[i];
  gboolean force = ((required[packet->type] | always_written[packet->type]) & (1u << i)) != 0;
  guint64 number = 0;
  const gchar *str = NULL;

  switch (field->kind) {
  case FIELD_KIND_UINT32:
    number = G_STRUCT_MEMBER (guint32, packet, field->offset);
    break;
  case FIELD_KIND_UINT64:
    number = G_STRUCT_MEMBER (guint64, packet, field->offset);
    break;
  case FIELD_KIND_BOOL:
    number = G_STRUCT_MEMBER (gboolean, packet, field->offset) ? 1 : 0;
    str = number ? "true" : "false";
    break;
  case FIELD_KIND_METHOD:
    number = packet->method;
    str = kith_packet_method_to_string (packet->method);
    break;
  case FIELD_KIND_TYPE:
  case FIELD_KIND_VERSION:
    return;
  default:
    str = G_STRUCT_MEMBER (const gchar *, packet, field->offset);
    number = str != NULL;
    break;
  }
  if (number == 0 && !force)
    return;
  g_string_append_printf (out, " %s=\"", field->name);
  if (field->kind == FIELD_KIND_UINT32 || field->kind == FIELD_KIND_UINT64)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, number);
  else if (str != NULL) /* always, validate() saw to it */
    append_escaped (out, str);
  g_string_append_c (out, '"');
}

static GBytes *
too_large (GError **error)
{
  g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_TOO_LARGE,
               "packet would be more than %d bytes", KITH_PACKET_MAX_SIZE);
  return NULL;
}

GBytes *
kith_packet_write (const KithPacket *packet, GError **error)
{
  g_autoptr (GString) out = NULL;
  guint32 present = ~0u;

  g_return_val_if_fail (packet != NULL, NULL);

  /* numbers and bools are always there to write; strings only when set, and a string
   * that alone overflows a packet is refused before it costs a buffer */
  for (guint i = 0; i < F_LAST; i++) {
    const gchar *str;
    if (!field_is_string (&fields[i]))
      continue;
    str = G_STRUCT_MEMBER (const gchar *, packet, fields[i].offset);
    if (str == NULL)
      present &= ~(1u << i);
    else if (strnlen (str, KITH_PACKET_MAX_SIZE + 1) > KITH_PACKET_MAX_SIZE)
      return too_large (error);
  }
  if (!validate (packet, present, error))
    return NULL;
  if (kith_packet_method_to_string (packet->method) == NULL) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_BAD_VALUE,
                         "invalid method");
    return NULL;
  }

  out = g_string_sized_new (256);
  g_string_append_printf (out, "<service type=\"%s\" version=\"%d.%d\"", type_names[packet->type],
                          KITH_PACKET_VERSION_MAJOR, KITH_PACKET_VERSION_MINOR);
  for (guint i = F_VERSION + 1; i < F_LAST; i++)
    append_field (out, packet, i);
  g_string_append (out, "/>");
  if (out->len > KITH_PACKET_MAX_SIZE)
    return too_large (error);
  return g_string_free_to_bytes (g_steal_pointer (&out));
}
