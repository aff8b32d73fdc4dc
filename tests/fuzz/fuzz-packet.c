/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-packet.c — libFuzzer target for kith_packet_parse() and kith_packet_write() */
#include <stdint.h>

#include "kith-packet.h"
#include "kith-peering-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Whatever the bytes, parse either drops them with a packet error or yields a packet
 * that writes back and parses again to the same type: anything else is a bug. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPacket) packet = kith_packet_parse (data, size, &error);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KithPacket) again = NULL;

  if (packet == NULL) {
    g_assert_true (error != NULL && error->domain == KITH_PEERING_ERROR);
    g_assert_cmpint (error->code, >=, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
    g_assert_cmpint (error->code, <=, KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE);
    return 0;
  }
  /* a double-quote inside a single-quoted value grows when escaped, so a packet close
   * to the limit may not fit once rewritten: that one error is allowed */
  bytes = kith_packet_write (packet, &error);
  if (bytes == NULL) {
    g_assert_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
    return 0;
  }
  again = kith_packet_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->type, ==, packet->type);
  g_assert_cmpuint (again->id, ==, packet->id);
  g_assert_cmpstr (again->node, ==, packet->node);
  g_assert_cmpstr (again->href, ==, packet->href);
  g_assert_cmpstr (again->alias, ==, packet->alias);
  g_assert_cmpuint (again->size, ==, packet->size);
  g_assert_cmpuint (again->done, ==, packet->done);
  return 0;
}
