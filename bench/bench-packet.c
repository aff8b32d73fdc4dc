/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-packet.c — packets parsed per second on one core (issue 3, benchmark (e))
 *
 * Parses a mix of realistic packets, as written by kith_packet_write(), COUNT times
 * per run, five runs; prints the median as
 *   packet-parse: median 412345 parses/s (5 runs)
 * Usage: bench-packet [COUNT]   (default 200000) */
#include <stdlib.h>

#include "kith-packet.h"

#define RUNS 5
#define NODE "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HREF "http://backend.example/dat/avdat-2611211200.cab"
#define ALIAS "http://192.168.1.23:6515/alias/" SHA

/* The traffic of one cache miss: request, downloading ×3, complete, plus a hit's
 * response and found, so requests and progress dominate as on a real LAN. */
static GPtrArray *
make_mix (void)
{
  GPtrArray *mix = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const KithPacketType types[] = {
    KITH_PACKET_TYPE_REQUEST, KITH_PACKET_TYPE_DOWNLOADING, KITH_PACKET_TYPE_DOWNLOADING,
    KITH_PACKET_TYPE_DOWNLOADING, KITH_PACKET_TYPE_COMPLETE, KITH_PACKET_TYPE_REQUEST,
    KITH_PACKET_TYPE_RESPONSE, KITH_PACKET_TYPE_FOUND, KITH_PACKET_TYPE_END_REQUEST,
  };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
    g_autoptr (KithPacket) p = kith_packet_new (types[i]);
    g_autoptr (GError) error = NULL;
    GBytes *bytes;
    p->id = 3000000000u + i;
    p->node = g_strdup (NODE);
    p->href = g_strdup (HREF);
    p->acceptprotocol = types[i] == KITH_PACKET_TYPE_REQUEST ? g_strdup ("http") : NULL;
    if (types[i] != KITH_PACKET_TYPE_REQUEST) {
      p->alias = g_strdup (ALIAS);
      p->sha256 = g_strdup (SHA);
      p->size = 73400320;
      p->total = 73400320;
      p->done = 18350080 * (i % 4);
    }
    if (types[i] == KITH_PACKET_TYPE_FOUND || types[i] == KITH_PACKET_TYPE_END_REQUEST)
      g_clear_pointer (&p->href, g_free);
    bytes = kith_packet_write (p, &error);
    if (bytes == NULL)
      g_error ("cannot write packet: %s", error->message);
    g_ptr_array_add (mix, bytes);
  }
  return mix;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) mix = make_mix ();
  guint64 count = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 200000;
  gdouble rates[RUNS];

  if (count == 0)
    count = 200000;
  for (guint run = 0; run < RUNS; run++) {
    gint64 start = g_get_monotonic_time ();
    gint64 elapsed;
    for (guint64 n = 0; n < count; n++) {
      GBytes *bytes = g_ptr_array_index (mix, n % mix->len);
      KithPacket *p = kith_packet_parse (g_bytes_get_data (bytes, NULL),
                                         g_bytes_get_size (bytes), NULL);
      if (G_UNLIKELY (p == NULL))
        g_error ("a benchmark packet did not parse");
      kith_packet_free (p);
    }
    elapsed = MAX (g_get_monotonic_time () - start, 1);
    rates[run] = (gdouble) count * G_USEC_PER_SEC / (gdouble) elapsed;
  }
  qsort (rates, RUNS, sizeof (rates[0]), cmp_double);
  g_print ("packet-parse: median %.0f parses/s (%d runs)\n", rates[RUNS / 2], RUNS);
  return 0;
}
