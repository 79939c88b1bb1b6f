#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Parse OpenMetrics text on stdin with prometheus_client's OpenMetrics parser
(strict: grouping, "# EOF", cumulative histogram buckets...) and with its
Prometheus text parser (what node_exporter's textfile collector reads).
Print one line per sample: 'NAME{device="..",volume="..",k="v",...} VALUE'
(labels escaped as in the text, VALUE a float), and one
'# TYPE FAMILY TYPE' per family.  Exit 1 when either parser refuses it."""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as prom_parse

text = sys.stdin.read()
try:
    families = list(om_parse(text))
except Exception as e:
    print("OpenMetrics parser: %s" % e, file=sys.stderr)
    sys.exit(1)
try:
    list(prom_parse(text.replace("# EOF\n", "")))
except Exception as e:
    print("Prometheus text parser: %s" % e, file=sys.stderr)
    sys.exit(1)
def esc(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def order(item):
    """device, volume, then the other labels by name."""
    return ({"device": 0, "volume": 1}.get(item[0], 2), item[0])


for f in families:
    print("# TYPE %s %s" % (f.name, f.type))
    for s in f.samples:
        labels = ",".join('%s="%s"' % (k, esc(v)) for k, v in sorted(s.labels.items(), key=order))
        print("%s{%s} %r" % (s.name, labels, float(s.value)))
