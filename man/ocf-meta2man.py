#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn an OCF resource agent's meta-data (XML, on stdin) into a man(7) page.

Usage: ocf-meta2man.py PROVIDER DATE VERSION <meta-data.xml >page.7

The page is named ocf_PROVIDER_AGENT(7), as resource-agents names its own.
The agent's meta-data stays the one source of its documentation.
"""
import sys
import xml.etree.ElementTree as ET


def esc(line):
    """One line of text, safe as roff input."""
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def text(el):
    """The paragraphs of a longdesc/shortdesc: .PP between them."""
    if el is None or el.text is None:
        return []
    out, para = [], []
    for raw in el.text.strip().split("\n"):
        raw = raw.strip()
        if raw:
            para.append(esc(raw))
        elif para:
            out.append(para)
            para = []
    if para:
        out.append(para)
    lines = []
    for i, p in enumerate(out):
        if i:
            lines.append(".PP")
        lines.extend(p)
    return lines


def main():
    provider, date, version = sys.argv[1:4]
    ra = ET.parse(sys.stdin).getroot()
    agent = ra.get("name")
    page = "ocf_%s_%s" % (provider, agent)
    short = (ra.findtext("shortdesc") or "").strip()
    params = ra.findall("parameters/parameter")
    actions = ra.findall("actions/action")
    o = []
    o.append('.\\" Generated from the meta-data of ocf:%s:%s; do not edit.' % (provider, agent))
    o.append('.TH %s 7 "%s" "mmpd %s" "OCF resource agents"' % (page.upper(), date, version))
    o.append(".SH NAME")
    o.append("%s \\- %s" % (esc(page), esc(short)))
    o.append(".SH SYNOPSIS")
    args = "\n".join("[OCF_RESKEY_%s=\\fI%s\\fR]" % (esc(p.get("name")),
                    esc(p.find("content").get("type", "string"))) for p in params)
    o.append(".B %s" % esc(agent))
    o.append("[%s]" % " | ".join(sorted({esc(a.get("name")) for a in actions})))
    o.append(".PP")
    o.append("The agent is run by Pacemaker as \\fBocf:%s:%s\\fR, with its parameters in" % (esc(provider), esc(agent)))
    o.append("the environment:")
    o.append(args)
    o.append(".SH DESCRIPTION")
    o.extend(text(ra.find("longdesc")))
    o.append(".SH SUPPORTED PARAMETERS")
    for p in params:
        c = p.find("content")
        tags = []
        if p.get("required") == "1":
            tags.append("required")
        if p.get("unique") == "1":
            tags.append("unique")
        o.append(".TP")
        o.append("\\fB%s\\fR (%s%s)" % (esc(p.get("name")), esc(c.get("type", "string")),
                                       ", " + ", ".join(tags) if tags else ""))
        o.extend(text(p.find("longdesc")))
        default = c.get("default")
        if default is not None and "required" not in tags:
            o.append(".IP")
            o.append("Default: %s" % (("\\fB%s\\fR" % esc(default)) if default else "empty"))
    o.append(".SH SUPPORTED ACTIONS")
    for a in actions:
        o.append(".TP")
        o.append("\\fB%s\\fR" % esc(a.get("name")))
        attrs = ["%s %s" % (k, esc(a.get(k))) for k in ("timeout", "interval", "depth")
                 if a.get(k) is not None]
        o.append("Default " + ", ".join(attrs) + "." if attrs else "")
    o.append(".SH EXAMPLE")
    o.append("A resource that mounts a volume on the node Pacemaker picks:")
    o.append(".PP")
    o.append(".nf")
    o.append(".RS 4")
    req = [p.get("name") for p in params if p.get("required") == "1"]
    o.append("crm configure primitive data ocf:%s:%s \\e" % (esc(provider), esc(agent)))
    o.append("  params %s \\e" % " ".join("%s=%s" % (esc(n), {"device": "/dev/disk/by\\-id/wwn\\-0x5000c500a1b2c3d4",
                                                             "directory": "/srv/data"}.get(n, "VALUE")) for n in req))
    o.append("  op monitor interval=10s timeout=20s")
    o.append(".RE")
    o.append(".fi")
    o.append(".SH SEE ALSO")
    o.append(".BR mmpctl (8),")
    o.append(".BR mmpd (8),")
    o.append(".BR mmpd.conf (5)")
    sys.stdout.write("\n".join(l for l in o if l != "") + "\n")


main()
