/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-packet.h — one peering packet: a single <service/> element on the wire (docs/protocol.md) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest packet we send or accept, in bytes: fits one Ethernet frame over UDP. */
#define KITH_PACKET_MAX_SIZE 1400
/* The most attributes a packet may carry, unknown ones included. */
#define KITH_PACKET_MAX_ATTRIBUTES 32
/* The protocol version we write; any VERSION_MAJOR.x is accepted. */
#define KITH_PACKET_VERSION_MAJOR 1
#define KITH_PACKET_VERSION_MINOR 1
/* Lengths of the hex strings in node and sha256. */
#define KITH_PACKET_NODE_LEN 32
#define KITH_PACKET_SHA256_LEN 64

/**
 * KithPacketType:
 * Every packet carries type, version and node. The other attributes each type must have
 * (a packet without them is dropped with PACKET_MISSING_ATTRIBUTE) are:
 * @KITH_PACKET_TYPE_REQUEST: "request" (I need): id, href; method defaults to get; holder
 *   (optional, since 1.1) names a node the requester believes holds href: it answers first
 * @KITH_PACKET_TYPE_RESPONSE: "response" (I have): id, alias; size and sha256 when the
 *   alias is a file, cert, sig and interval when it offers a task (upload, relay)
 * @KITH_PACKET_TYPE_FOUND: "found" (I found): id — responders cancel their pending reply
 * @KITH_PACKET_TYPE_DOWNLOADING: "downloading" (progress): href, alias, done; total 0 = unknown
 * @KITH_PACKET_TYPE_COMPLETE: "complete" (download complete): href, alias, size, sha256
 * @KITH_PACKET_TYPE_END_REQUEST: "end-request" (the requester gave up): id
 */
typedef enum {
  KITH_PACKET_TYPE_UNKNOWN,
  KITH_PACKET_TYPE_REQUEST,
  KITH_PACKET_TYPE_RESPONSE,
  KITH_PACKET_TYPE_FOUND,
  KITH_PACKET_TYPE_DOWNLOADING,
  KITH_PACKET_TYPE_COMPLETE,
  KITH_PACKET_TYPE_END_REQUEST,
  KITH_PACKET_TYPE_LAST /*< skip >*/
} KithPacketType;

typedef enum {
  KITH_PACKET_METHOD_GET,
  KITH_PACKET_METHOD_POST,
} KithPacketMethod;

/**
 * KithPacket:
 * A plain value; every string is owned by the packet (set them with g_strdup), NULL when
 * absent. Numbers absent on the wire are 0. Values are checked by parse and write alike:
 * node and holder are KITH_PACKET_NODE_LEN and sha256 KITH_PACKET_SHA256_LEN lowercase hex digits;
 * cert and sig are base64; href, alias, acceptprotocol and want are non-empty text without
 * control characters; numbers are plain decimal (no sign, no leading zero, no space) within
 * their type; cachedonly is "true" or "false"; done ≤ total unless total is 0.
 */
typedef struct {
  KithPacketType type;
  guint version_major;     /* as received; kith_packet_write() always writes ours */
  guint version_minor;
  guint32 id;              /* unique on its node: a request is (node, id) */
  gchar *node;             /* the sender's 128-bit node id, hex */
  KithPacketMethod method;
  gchar *href;             /* the origin URL asked for or being downloaded */
  gchar *acceptprotocol;   /* e.g. "http" */
  gboolean cachedonly;     /* answer only from what is already stored */
  gchar *want;             /* what the requester wants besides a file, e.g. a task name */
  gchar *alias;            /* URL of the copy on the sender's HTTP server */
  guint64 size;
  gchar *sha256;
  gchar *cert;             /* task responses: node certificate, base64 DER */
  gchar *sig;              /* task responses: signature over (id, alias), base64 */
  guint32 interval;        /* task responses: the responder's upload interval, seconds */
  guint64 done;            /* bytes downloaded so far */
  guint64 total;           /* bytes expected, 0 if unknown */
  gchar *holder;           /* requests: the node asked to answer first (a hint) */
} KithPacket;

/* The wire name of @type ("request", …), or NULL for UNKNOWN and out-of-range values. */
const gchar *kith_packet_type_to_string (KithPacketType type);
/* The type named @str, or KITH_PACKET_TYPE_UNKNOWN; @str may be NULL. */
KithPacketType kith_packet_type_from_string (const gchar *str);
/* The wire name of @method ("get" or "post"), or NULL if out of range. */
const gchar *kith_packet_method_to_string (KithPacketMethod method);

/* A new packet of @type, version 1.0, method get, every other field empty; caller frees. */
KithPacket *kith_packet_new (KithPacketType type);
/* Frees @packet and its strings; NULL is fine. */
void kith_packet_free (KithPacket *packet);

/* Parses one received datagram; a new packet the caller frees, or NULL with a
 * KITH_PEERING_ERROR_PACKET_* error saying why it must be dropped. Bounded in time and
 * memory by KITH_PACKET_MAX_SIZE whatever @data holds. */
KithPacket *kith_packet_parse (const guint8 *data, gsize len, GError **error);
/* Serialises @packet for sending (version KITH_PACKET_VERSION_MAJOR.MINOR); new bytes the
 * caller unrefs, or NULL with the same error codes as parse if it is invalid or too large. */
GBytes *kith_packet_write (const KithPacket *packet, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPacket, kith_packet_free)

G_END_DECLS
