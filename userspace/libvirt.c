// SPDX-License-Identifier: GPL-2.0
/*
 * libvirt.c - the libvirt qemu hook (iobandctl hook qemu ...).
 *
 * libvirtd runs /etc/libvirt/hooks/qemu (or each file of qemu.d/) as
 * "NAME OP SUBOP EXTRA" with the domain XML on stdin and waits for it; a
 * non-zero exit of prepare, start, started or migrate refuses that step.
 * The hook must never call back into libvirt (libvirtd would deadlock), so
 * everything it needs comes from the XML on stdin, from qemu's pid file and
 * from /proc.
 *
 * A guest's policy (libvirt.h) becomes one guest of the host file, and the
 * hook brings the host to "host file + recorded guests" with the planner
 * apply uses (plan.h): idempotent, with an undo log.  What each operation
 * does:
 *
 *   prepare    record the guest as "prepared": its disks of their own get
 *              their ioband devices (qemu opens them next).  The rest of
 *              the policy (shared devices, interfaces) is validated now,
 *              so that a guest whose policy cannot be met does not start.
 *   started,   record it as "running": qemu's cgroup (from its pid file)
 *   reconnect, gets its groups on shared devices, its interfaces are
 *   attach     shaped.  reconnect never fails (that would kill the guest).
 *   stopped    back to "prepared": groups and shaping go.
 *   release    forget the guest: its devices go too.
 *   migrate,   validate and plan (nothing changes): refuse what this host
 *   restore    cannot meet.  Nothing is printed on stdout, so the XML is
 *              passed on unchanged.
 *
 * The records live in $IOBAND_STATE_DIR/libvirt/NAME.{xml,json}: the domain
 * XML as last received (messages point into it) and the phase and cgroup.
 */
#include "libvirt.h"
#include "plan.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LV_CHECK_CGROUP "machine.slice/ioband-check"

/* ------------------------------------------------------------ XML parse */

struct dom_disk {
	char *target, *type, *source;	/* source: <source dev|file|name> */
};

struct dom_iface {
	char *mac, *target;
};

static int xerr(char **err, const char *file, const xmlNode *n, const char *fmt, ...) PRINTF(4, 5);
static int xerr(char **err, const char *file, const xmlNode *n, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	sb_addf(&sb, "%s:%ld: ", file, n ? (long)xmlGetLineNo(n) : 1L);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	*err = sb_steal(&sb);
	return -EINVAL;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp((const char *)n->name, name);
}

static bool in_ns(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, IOB_LV_NS);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (n = n->children; n; n = n->next)
		if (is_el(n, name))
			return n;
	return NULL;
}

/* Attribute NAME (no namespace) of N, malloc'ed, or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	if (!v)
		return NULL;
	s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

static char *text_of(const xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *s, *e;

	if (!v)
		return xstrdup("");
	s = (char *)v + strspn((char *)v, " \t\r\n");
	s = xstrdup(s);
	xmlFree(v);
	for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
		;
	*e = '\0';
	return s;
}

static void lower(char *s)
{
	for (; s && *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* Every attribute of N is one of ALLOWED (NULL-terminated). */
static int check_attrs(const char *file, const xmlNode *n, const char *what,
		       const char *const *allowed, char **err)
{
	const xmlAttr *a;
	const char *const *k;

	for (a = n->properties; a; a = a->next) {
		if (a->ns)
			return xerr(err, file, n, "%s: attribute %s:%s is not allowed here", what,
				    (const char *)a->ns->prefix, (const char *)a->name);
		for (k = allowed; *k; k++)
			if (!strcmp(*k, (const char *)a->name))
				break;
		if (!*k) {
			struct strbuf sb = { 0 };

			for (k = allowed; *k; k++)
				sb_addf(&sb, "%s%s", k == allowed ? "" : ", ", *k);
			xerr(err, file, n, "%s: unknown attribute %s (allowed: %s)", what,
			     quote((const char *)a->name), sb.s ? sb.s : "none");
			sb_free(&sb);
			return -EINVAL;
		}
	}
	return 0;
}

static int get_weight(const char *file, const xmlNode *n, const char *what, uint64_t lo,
		      uint64_t hi, unsigned int *out, char **err)
{
	char *v = attr(n, "weight");
	uint64_t x;
	int r;

	if (!v)
		return 0;
	r = parse_u64_range(v, lo, hi, &x);
	if (r == -EDOM)
		xerr(err, file, n, "%s weight: %s: " U64_LEADING_ZERO, what, quote(v));
	else if (r)
		xerr(err, file, n, "%s weight: %s: must be %llu..%llu", what, quote(v),
		     (unsigned long long)lo, (unsigned long long)hi);
	if (r) {
		free(v);
		return -EINVAL;
	}
	free(v);
	*out = x;
	return 0;
}

/* min, max, burst: validated as the host file's (config.c). */
static int get_limits(const char *file, const xmlNode *n, const char *what, struct iob_limits *l,
		      char **err)
{
	char *min = attr(n, "min"), *max = attr(n, "max"), *burst = attr(n, "burst"), *why;
	const char *key;
	int r = limits_parse(min, max, burst, l, &key, &why);

	if (r) {
		xerr(err, file, n, "%s %s: %s", what, key, why);
		free(why);
	}
	free(min);
	free(max);
	free(burst);
	return r;
}

static const struct dom_disk *find_disk(const struct dom_disk *v, size_t n, const char *target)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].target && !strcmp(v[i].target, target))
			return &v[i];
	return NULL;
}

static int parse_pdisk(const char *file, const xmlNode *n, struct lv_domain *d,
		       const struct dom_disk *dd, size_t ndd, char **err)
{
	static const char *const ok[] = { "target", "device", "device-group", "shared", "group",
					  "weight", "min", "max", "burst", NULL };
	struct lv_pdisk *k;
	const struct dom_disk *dk;
	char *v, *what, *want;
	size_t i;
	int r = -EINVAL;

	v = attr(n, "target");
	what = xasprintf("<ioband:disk%s%s%s>", v ? " target='" : "", v ? quote_if_needed(v) : "",
			 v ? "'" : "");
	if (check_attrs(file, n, what, ok, err))
		goto out;
	if (!v) {
		xerr(err, file, n, "%s: attribute target is required (the disk's <target dev>)", what);
		goto out;
	}
	k = vec_push(&d->disks, &d->n_disks, sizeof(*k));
	k->line = xmlGetLineNo(n);
	k->target = v;
	v = NULL;
	k->weight = IOB_WEIGHT_DEFAULT;
	k->device = attr(n, "device");
	k->devgroup = attr(n, "device-group");
	k->shared = attr(n, "shared");
	if (!valid_name(k->target, 32)) {
		xerr(err, file, n, "%s target: not a disk target name", what);
		goto out;
	}
	for (i = 0; i + 1 < d->n_disks; i++)
		if (!strcmp(d->disks[i].target, k->target)) {
			xerr(err, file, n, "%s: disk %s already has a policy (line %d)", what,
			     k->target, d->disks[i].line);
			goto out;
		}
	if (get_weight(file, n, what, IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, &k->weight, err) ||
	    get_limits(file, n, what, &k->lim, err))
		goto out;
	if (!!k->device == !!k->shared) {
		xerr(err, file, n, "%s: give device (a device of its own) or shared (a group on a shared device of the host file), exactly one",
		     what);
		goto out;
	}
	dk = find_disk(dd, ndd, k->target);
	if (!dk) {
		xerr(err, file, n, "%s target: the domain has no disk with <target dev='%s'/>", what,
		     k->target);
		goto out;
	}
	if (k->device) {
		if (k->device[0] != '/' || strpbrk(k->device, " \t\n")) {
			xerr(err, file, n, "%s device: %s: must be an absolute path", what, quote(k->device));
			goto out;
		}
		v = attr(n, "group");
		if (v) {
			xerr(err, file, n, "%s group: only for a disk on a shared device", what);
			goto out;
		}
		if (k->devgroup && !valid_name(k->devgroup, IOB_NAME_MAX)) {
			xerr(err, file, n, "%s device-group: %s: use 1..%d of A-Z a-z 0-9 _ . + -",
			     what, quote(k->devgroup), IOB_NAME_MAX);
			goto out;
		}
		/* qemu must open the ioband device, not what is under it. */
		want = xasprintf("/dev/mapper/" IOB_DM_PREFIX "%s-%s", d->name, k->target);
		if (!dk->type || strcmp(dk->type, "block") || !dk->source ||
		    strcmp(dk->source, want)) {
			xerr(err, file, n, "%s: the domain's disk %s must be <disk type='block'> with <source dev='%s'/>, the ioband device this policy creates over %s (it is %s%s%s)",
			     what, k->target, want, quote_if_needed(k->device),
			     dk->type ? quote_if_needed(dk->type) : "?", dk->source ? " " : "",
			     dk->source ? quote_if_needed(dk->source) : "");
			free(want);
			goto out;
		}
		free(want);
	} else {
		if (!valid_name(k->shared, 64)) {
			xerr(err, file, n, "%s shared: %s: not a device name", what, quote(k->shared));
			goto out;
		}
		if (k->devgroup) {
			xerr(err, file, n, "%s device-group: set the device group on the shared device in the host file",
			     what);
			goto out;
		}
		v = attr(n, "group");
		if (v) {
			int r = parse_u64_range(v, 0, (uint64_t)INT64_MAX, &k->group);

			if (r) {
				xerr(err, file, n, "%s group: %s: %s", what, quote(v),
				     r == -EDOM ? U64_LEADING_ZERO : "not a group id");
				goto out;
			}
			k->has_group = true;
		}
	}
	r = 0;
out:
	free(v);
	free(what);
	return r;
}

static int parse_piface(const char *file, const xmlNode *n, struct lv_domain *d,
			const struct dom_iface *di, size_t ndi, char **err)
{
	static const char *const ok[] = { "mac", "ip", "weight", "cap", "down-cap", "up-cap",
					  "floor", "burst", NULL };
	static const char *const rates[] = { "cap", "down-cap", "up-cap", "floor" };
	struct lv_piface *f;
	char *v = attr(n, "mac"), *what, **dst[4], *save = NULL, *tok, *why;
	size_t i;
	int r = -EINVAL;

	what = xasprintf("<ioband:interface%s%s%s>", v ? " mac='" : "", v ? quote_if_needed(v) : "",
			 v ? "'" : "");
	if (check_attrs(file, n, what, ok, err))
		goto out;
	if (!v) {
		xerr(err, file, n, "%s: attribute mac is required (the interface's <mac address>)", what);
		goto out;
	}
	if (mac_problem(v)) {
		xerr(err, file, n, "%s mac: %s: %s", what, quote(v), mac_problem(v));
		goto out;
	}
	f = vec_push(&d->ifaces, &d->n_ifaces, sizeof(*f));
	f->line = xmlGetLineNo(n);
	f->c.mac = v;
	v = NULL;
	lower(f->c.mac);
	f->c.weight = 1;
	for (i = 0; i + 1 < d->n_ifaces; i++)
		if (!strcmp(d->ifaces[i].c.mac, f->c.mac)) {
			xerr(err, file, n, "%s: interface %s already has a policy (line %d)", what,
			     f->c.mac, d->ifaces[i].line);
			goto out;
		}
	for (i = 0; i < ndi; i++)
		if (di[i].mac && !strcmp(di[i].mac, f->c.mac))
			break;
	if (i == ndi) {
		xerr(err, file, n, "%s mac: the domain has no interface with <mac address='%s'/>",
		     what, f->c.mac);
		goto out;
	}
	if (di[i].target)
		f->target = xstrdup(di[i].target);
	if (get_weight(file, n, what, 1, IOB_NET_WEIGHT_MAX, &f->c.weight, err))
		goto out;
	dst[0] = &f->c.cap;
	dst[1] = &f->c.down_cap;
	dst[2] = &f->c.up_cap;
	dst[3] = &f->c.floor;
	for (i = 0; i < ARRAY_SIZE(rates); i++) {
		*dst[i] = attr(n, rates[i]);
		if (*dst[i] && rate_problem(*dst[i])) {
			xerr(err, file, n, "%s %s: %s: %s", what, rates[i], quote(*dst[i]),
			     rate_problem(*dst[i]));
			goto out;
		}
	}
	f->c.burst = attr(n, "burst");
	if (f->c.burst && size_problem(f->c.burst)) {
		xerr(err, file, n, "%s burst: %s: %s", what, quote(f->c.burst),
		     size_problem(f->c.burst));
		goto out;
	}
	v = attr(n, "ip");
	for (tok = v ? strtok_r(v, " \t\n", &save) : NULL; tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (ip_check(tok) == -EINVAL) {
			xerr(err, file, n, "%s ip: %s: must be IPv4 or IPv6 addresses[/LEN], space-separated",
			     what, quote(tok));
			goto out;
		}
		if ((why = ip_problem(tok))) {
			xerr(err, file, n, "%s ip: %s: %s", what, quote(tok), why);
			free(why);
			goto out;
		}
		strv_add(&f->c.ips, tok);
	}
	r = 0;
out:
	free(v);
	free(what);
	return r;
}

static bool is_text(const xmlNode *n)
{
	return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
}

/* Text node N holds white space only. */
static bool blank(const xmlNode *n)
{
	char *t = text_of(n);
	bool r = !*t;

	free(t);
	return r;
}

static int parse_policy(const char *file, const xmlNode *p, struct lv_domain *d,
			const struct dom_disk *dd, size_t ndd, const struct dom_iface *di,
			size_t ndi, char **err)
{
	static const char *const none[] = { NULL };
	const xmlNode *n;

	if (strcmp((const char *)p->name, "ioband"))
		return xerr(err, file, p, "<%s:%s>: the ioband metadata element is <ioband xmlns=\"%s\">",
			    p->ns->prefix ? (const char *)p->ns->prefix : "", (const char *)p->name,
			    IOB_LV_NS);
	if (check_attrs(file, p, "<ioband:ioband>", none, err))
		return -EINVAL;
	d->has_policy = true;
	d->policy_line = xmlGetLineNo(p);
	for (n = p->children; n; n = n->next) {
		if (is_text(n)) {
			if (!blank(n))
				return xerr(err, file, n, "<ioband:ioband>: text is not allowed here");
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;	/* comments */
		/* virsh metadata --set qualifies only the top element: take
		 * unqualified children as ours. */
		if (!in_ns(n) && n->ns)
			return xerr(err, file, n, "<%s:%s>: element of namespace %s in <ioband:ioband> (want disk or interface)",
				    n->ns->prefix ? (const char *)n->ns->prefix : "",
				    (const char *)n->name,
				    n->ns->href ? quote_if_needed((const char *)n->ns->href) : "?");
		if (!strcmp((const char *)n->name, "disk")) {
			if (parse_pdisk(file, n, d, dd, ndd, err))
				return -EINVAL;
		} else if (!strcmp((const char *)n->name, "interface")) {
			if (parse_piface(file, n, d, di, ndi, err))
				return -EINVAL;
		} else {
			return xerr(err, file, n, "<ioband:%s>: unknown element (want disk or interface)",
				    (const char *)n->name);
		}
		if (n->children) {
			const xmlNode *c;

			/* Text too: "<ioband:disk ...>weight=5</ioband:disk>" is no setting. */
			for (c = n->children; c; c = c->next)
				if (c->type == XML_ELEMENT_NODE || (is_text(c) && !blank(c)))
					return xerr(err, file, c, "<ioband:%s>: must be empty",
						    (const char *)n->name);
		}
	}
	return 0;
}

int lv_parse(const char *file, const char *text, size_t len, struct lv_domain *d, char **err)
{
	struct dom_disk *dd = NULL;
	struct dom_iface *di = NULL;
	size_t ndd = 0, ndi = 0, i;
	const xmlNode *root, *n, *devs, *md, *pol = NULL, *other = NULL;
	xmlDoc *doc;
	char *v;
	int r = -EINVAL;

	memset(d, 0, sizeof(*d));
	d->id = -1;
	d->file = xstrdup(file);
	*err = NULL;
	if (len > INT32_MAX) {
		*err = xasprintf("%s: too large", file);
		lv_domain_free(d);
		return -EINVAL;
	}
	/* No network, no entity expansion, no DTD loading. */
	doc = xmlReadMemory(text, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char *m = xstrdup(e && e->message ? e->message : "parse error");
		size_t n = strlen(m);

		while (n && m[n - 1] == '\n')
			m[--n] = '\0';
		/* libxml2's message may hold the text at fault */
		*err = xasprintf("%s:%d: not well-formed XML: %s", file, e ? e->line : 1,
				 quote_if_needed(m));
		free(m);
		lv_domain_free(d);
		return -EINVAL;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_el(root, "domain")) {
		xerr(err, file, root, "the root element must be <domain> (a libvirt domain XML)");
		goto out;
	}
	v = attr(root, "id");
	if (v) {
		uint64_t x;

		if (!parse_u64_range(v, 0, INT32_MAX, &x))
			d->id = (long)x;
		free(v);
	}
	n = child(root, "name");
	if (!n) {
		xerr(err, file, root, "<domain>: no <name>");
		goto out;
	}
	d->name = text_of(n);
	devs = child(root, "devices");
	for (n = devs ? devs->children : NULL; n; n = n->next) {
		if (is_el(n, "disk")) {
			struct dom_disk *k = vec_push(&dd, &ndd, sizeof(*k));
			const xmlNode *t = child(n, "target"), *s = child(n, "source");

			k->type = attr(n, "type");
			k->target = t ? attr(t, "dev") : NULL;
			if (s && !(k->source = attr(s, "dev")) && !(k->source = attr(s, "file")))
				k->source = attr(s, "name");
		} else if (is_el(n, "interface")) {
			struct dom_iface *f = vec_push(&di, &ndi, sizeof(*f));
			const xmlNode *t = child(n, "target"), *m = child(n, "mac");

			f->mac = m ? attr(m, "address") : NULL;
			lower(f->mac);
			f->target = t ? attr(t, "dev") : NULL;
		}
	}
	md = child(root, "metadata");
	for (n = md ? md->children : NULL; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && !in_ns(n) && n->ns && n->ns->href && !other &&
		    !strncmp((const char *)n->ns->href, IOB_LV_NS_FAMILY, strlen(IOB_LV_NS_FAMILY)))
			other = n;
		if (!in_ns(n))
			continue;
		if (pol) {
			xerr(err, file, n, "<metadata>: a second element in namespace %s (first at line %ld)",
			     IOB_LV_NS, (long)xmlGetLineNo(pol));
			goto out;
		}
		pol = n;
	}
	/* Meant for ioband, but not what this hook reads: never ignored. */
	if (other && !pol) {
		xerr(err, file, other, "<metadata>: namespace %s is not the one this iobandctl reads (%s): the guest's ioband policy would be ignored",
		     quote_if_needed((const char *)other->ns->href), IOB_LV_NS);
		goto out;
	}
	if (pol) {
		if (!valid_name(d->name, 64)) {
			xerr(err, file, pol, "domain name %s: ioband needs 1..64 of A-Z a-z 0-9 _ . + - (it names the ioband devices)",
			     quote(d->name));
			goto out;
		}
		if (parse_policy(file, pol, d, dd, ndd, di, ndi, err))
			goto out;
	}
	r = 0;
out:
	for (i = 0; i < ndd; i++) {
		free(dd[i].target);
		free(dd[i].type);
		free(dd[i].source);
	}
	free(dd);
	for (i = 0; i < ndi; i++) {
		free(di[i].mac);
		free(di[i].target);
	}
	free(di);
	xmlFreeDoc(doc);
	if (r)
		lv_domain_free(d);
	return r;
}

void lv_domain_free(struct lv_domain *d)
{
	size_t i;

	for (i = 0; i < d->n_disks; i++) {
		free(d->disks[i].target);
		free(d->disks[i].device);
		free(d->disks[i].devgroup);
		free(d->disks[i].shared);
	}
	free(d->disks);
	for (i = 0; i < d->n_ifaces; i++) {
		free(d->ifaces[i].target);
		config_iface_free(&d->ifaces[i].c);
	}
	free(d->ifaces);
	free(d->file);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

static char *dupz(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void set_pos(struct cfg_pos *p, const struct lv_domain *d, int line, const char *field)
{
	p->file = xstrdup(d->file);
	p->line = line;
	p->field = xstrdup(field);
}

int lv_guest(const struct lv_domain *d, enum lv_phase phase, const char *cgroup,
	     struct cfg_guest *g, char **err)
{
	size_t i, j;

	memset(g, 0, sizeof(*g));
	*err = NULL;
	set_pos(&g->pos, d, d->policy_line, "<ioband:ioband>");
	g->name = xstrdup(d->name);
	if (phase == LV_RUNNING)
		g->cgroup = dupz(cgroup);
	else if (phase == LV_CHECK)
		g->cgroup = xstrdup(LV_CHECK_CGROUP);
	if (g->cgroup)
		cgroup_path_normalize(g->cgroup);	/* as the host file's */
	for (i = 0; i < d->n_disks; i++) {
		const struct lv_pdisk *p = &d->disks[i];
		struct cfg_disk *k;
		char *f;

		if (!p->device && phase == LV_PREPARED)
			continue;
		k = vec_push(&g->disks, &g->n_disks, sizeof(*k));
		f = xasprintf("<ioband:disk target='%s'>", p->target);
		set_pos(&k->pos, d, p->line, f);
		free(f);
		k->weight = p->weight;
		k->lim = p->lim;
		k->name = xstrdup(p->target);
		if (p->device) {
			k->device = xstrdup(p->device);
			k->devgroup = p->devgroup ? xstrdup(p->devgroup) :
				      xasprintf("%s-%s", d->name, p->target);
			if (strlen(k->devgroup) > IOB_NAME_MAX) {
				*err = xasprintf("%s:%d: %s device-group: required: %s is longer than %d characters",
						 d->file, p->line, k->pos.field, quote(k->devgroup), IOB_NAME_MAX);
				goto fail;
			}
		} else {
			k->ioband = xstrdup(p->shared);
			k->has_group = p->has_group;
			k->group = p->group;
		}
	}
	for (i = 0; phase != LV_PREPARED && i < d->n_ifaces; i++) {
		const struct lv_piface *p = &d->ifaces[i];
		struct cfg_iface *f = vec_push(&g->ifaces, &g->n_ifaces, sizeof(*f));
		char *fl = xasprintf("<ioband:interface mac='%s'>", p->c.mac);

		set_pos(&f->pos, d, p->line, fl);
		free(fl);
		if (phase == LV_CHECK) {
			f->name = xasprintf("iobchk%zu", i);
		} else if (!p->target || !valid_ifname(p->target)) {
			*err = xasprintf("%s:%d: %s: the domain's interface has %s <target dev>: cannot shape it",
					 d->file, p->line, f->pos.field, p->target ? "an invalid" : "no");
			goto fail;
		} else {
			f->name = xstrdup(p->target);
		}
		f->mac = xstrdup(p->c.mac);
		for (j = 0; j < p->c.ips.n; j++)
			strv_add(&f->ips, p->c.ips.v[j]);
		f->weight = p->c.weight;
		f->cap = dupz(p->c.cap);
		f->down_cap = dupz(p->c.down_cap);
		f->up_cap = dupz(p->c.up_cap);
		f->floor = dupz(p->c.floor);
		f->burst = dupz(p->c.burst);
	}
	return 0;
fail:
	config_guest_free(g);
	return -EINVAL;
}

/* ------------------------------------------------------------- records */

static char *state_dir(void)
{
	const char *d = getenv("IOBAND_STATE_DIR");

	return xstrdup(d && *d ? d : "/run/ioband");
}

static char *rec_dir(void)
{
	char *s = state_dir(), *r = xasprintf("%s/libvirt", s);

	free(s);
	return r;
}

static char *rec_path(const char *name, const char *ext)
{
	char *d = rec_dir(), *r = xasprintf("%s/%s.%s", d, name, ext);

	free(d);
	return r;
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				r = -errno;
			*s = c;
			if (!c || r)
				break;
		}
	}
	free(p);
	return r;
}

/*
 * Write TEXT to PATH atomically, readable by root only, as libvirt keeps
 * its own copies of domain XML (/etc/libvirt/qemu/NAME.xml is 0600).
 */
static int write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int r = 0;

	if (!f) {
		r = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		if (fputs(text, f) == EOF)
			r = -EIO;
		if (fclose(f) && !r)
			r = -errno;
		if (!r && rename(tmp, path))
			r = -errno;
	}
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

struct record {
	bool exists;
	char *phase, *cgroup, *xml;
};

static void rec_free(struct record *r)
{
	free(r->phase);
	free(r->cgroup);
	free(r->xml);
	memset(r, 0, sizeof(*r));
}

static int rec_load(const char *name, struct record *rec, char **err)
{
	char *jp = rec_path(name, "json"), *xp = rec_path(name, "xml");
	json_object *o = NULL, *v;
	size_t len;
	int r = 0;

	memset(rec, 0, sizeof(*rec));
	if (access(jp, F_OK))
		goto out;
	o = json_object_from_file(jp);
	/* phase: "prepared" or "running" (rec_guest() reads no other) */
	if (!o || !json_object_object_get_ex(o, "phase", &v) ||
	    json_object_get_type(v) != json_type_string ||
	    (strcmp(json_object_get_string(v), "prepared") &&
	     strcmp(json_object_get_string(v), "running"))) {
		*err = xasprintf("%s: not an ioband hook record", jp);
		r = -EINVAL;
		goto out;
	}
	rec->phase = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "cgroup", &v) && json_object_get_type(v) == json_type_string)
		rec->cgroup = xstrdup(json_object_get_string(v));
	r = read_text_file(xp, &rec->xml, &len);
	if (r) {
		*err = xasprintf("%s: %s", xp, strerror(-r));
		goto out;
	}
	rec->exists = true;
out:
	if (r)
		rec_free(rec);
	json_object_put(o);
	free(jp);
	free(xp);
	return r;
}

static int rec_save(const char *name, const char *phase, const char *cgroup, const char *xml)
{
	char *d = rec_dir(), *jp = rec_path(name, "json"), *xp = rec_path(name, "xml");
	json_object *o = json_object_new_object();
	int r;

	json_object_object_add(o, "phase", json_object_new_string(phase));
	if (cgroup)
		json_object_object_add(o, "cgroup", json_object_new_string(cgroup));
	r = mkdir_p(d);
	if (!r && chmod(d, 0700))
		r = -errno;
	if (!r)
		r = write_file(xp, xml);
	if (!r)
		r = write_file(jp, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	if (r)
		msg_err("cannot write %s: %s", xp, strerror(-r));
	json_object_put(o);
	free(d);
	free(jp);
	free(xp);
	return r;
}

static void rec_remove(const char *name)
{
	char *jp = rec_path(name, "json"), *xp = rec_path(name, "xml");

	unlink(jp);
	unlink(xp);
	free(jp);
	free(xp);
}

/* D's policy has a group keyed by the guest's cgroup. */
static bool needs_cgroup(const struct lv_domain *d)
{
	size_t i;

	for (i = 0; i < d->n_disks; i++)
		if (d->disks[i].shared && !d->disks[i].has_group)
			return true;
	return false;
}

/* The recorded guest NAME as a host-file guest. */
static int rec_guest(const char *name, const struct record *rec, struct cfg_guest *g, char **err)
{
	char *xp = rec_path(name, "xml");
	struct lv_domain d;
	enum lv_phase ph;
	int r;

	r = lv_parse(xp, rec->xml, strlen(rec->xml), &d, err);
	free(xp);
	if (r)
		return r;
	ph = !strcmp(rec->phase, "running") ? LV_RUNNING : LV_PREPARED;
	if (!d.has_policy) {
		/* A record is only written for a guest with a policy. */
		*err = xasprintf("%s: the recorded domain XML has no ioband policy", d.file);
		lv_domain_free(&d);
		return -EINVAL;
	}
	if (ph == LV_RUNNING && !rec->cgroup && needs_cgroup(&d)) {
		*err = xasprintf("%s: running guest recorded without its cgroup", d.file);
		lv_domain_free(&d);
		return -EINVAL;
	}
	r = lv_guest(&d, ph, rec->cgroup, g, err);
	lv_domain_free(&d);
	return r;
}

/* ----------------------------------------------------------- host file */

char *lv_host_file(bool *recorded)
{
	const char *e = getenv("IOBAND_HOST_FILE");
	char *s, *p, *last = NULL;
	size_t len;

	*recorded = false;
	if (e && *e)
		return xstrdup(e);
	s = state_dir();
	p = xasprintf("%s/host-file", s);
	free(s);
	/*
	 * The file apply last applied, even if it is gone: the hook must not
	 * fall back to another file (or none) and tear down what apply made.
	 */
	if (!read_text_file(p, &last, &len)) {
		last[strcspn(last, "\n")] = '\0';
		if (*last) {
			free(p);
			*recorded = true;
			return last;
		}
	}
	free(last);
	free(p);
	return access("/etc/ioband/host.yaml", F_OK) ? NULL : xstrdup("/etc/ioband/host.yaml");
}

void lv_host_file_record(const char *file)
{
	char *s = state_dir(), *p = xasprintf("%s/host-file", s), *abs = realpath(file, NULL);
	char *line = xasprintf("%s\n", abs ? abs : file);

	if (mkdir_p(s) || write_file(p, line))
		msg_warn("cannot write %s: the libvirt hook will not know the host file", p);
	free(line);
	free(abs);
	free(p);
	free(s);
}

static int names_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int json_only(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

/* Add every recorded guest but SKIP to CFG. */
static int add_recorded(struct host_cfg *cfg, const char *skip, char **err)
{
	char *d = rec_dir();
	struct dirent **ents = NULL;
	int n, i, r = 0;

	n = scandir(d, &ents, json_only, names_cmp);
	free(d);
	if (n < 0)
		return errno == ENOENT ? 0 : (*err = xasprintf("cannot read the hook records: %s",
								 strerror(errno)), -EIO);
	for (i = 0; i < n; i++) {
		char *name = xstrndup(ents[i]->d_name, strlen(ents[i]->d_name) - 5);
		struct record rec;
		struct cfg_guest g;

		if (!r && (!skip || strcmp(name, skip))) {
			r = rec_load(name, &rec, err);
			if (!r && rec.exists) {
				r = rec_guest(name, &rec, &g, err);
				if (!r)
					r = config_add_guest(cfg, &g, err);
			}
			rec_free(&rec);
		}
		free(name);
		free(ents[i]);
	}
	free(ents);
	return r;
}

int lv_load_all(struct host_cfg *cfg, const char *skip, char **err)
{
	bool recorded;
	char *hf = lv_host_file(&recorded);
	int r;

	*err = NULL;
	if (hf) {
		r = config_load(hf, cfg, err);
		free(hf);
		if (r && recorded) {
			char *e = *err, *s = state_dir();

			*err = xasprintf("%s (the host file iobandctl apply last applied, as %s/host-file says: apply it again from where it is now, or set IOBAND_HOST_FILE)",
					 e, s);
			free(e);
			free(s);
		}
		if (r)
			return r;
	} else {
		memset(cfg, 0, sizeof(*cfg));
		cfg->file = xstrdup("(none: no /etc/ioband/host.yaml)");
	}
	r = add_recorded(cfg, skip, err);
	if (r)
		config_free(cfg);
	return r;
}

int lv_add_recorded(struct host_cfg *cfg, char **err)
{
	int r = add_recorded(cfg, NULL, err);

	if (r)
		config_free(cfg);
	return r;
}

/* -------------------------------------------------------------- locking */

int lv_lock(void)
{
	char *s = state_dir(), *p = xasprintf("%s/lock", s);
	int fd, r = mkdir_p(s);

	fd = r ? r : open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = r ? r : -errno;
		msg_err("cannot open %s: %s", p, strerror(-r));
	} else if (flock(fd, LOCK_EX)) {
		r = -errno;
		msg_err("cannot lock %s: %s", p, strerror(-r));
		close(fd);
		fd = r;
	}
	free(p);
	free(s);
	return fd;
}

void lv_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------- the hook */

/* qemu's cgroup v2 path (relative to the root), from its pid file. */
static int qemu_cgroup(const char *name, char **out, char **err)
{
	const char *rd = getenv("IOBAND_LIBVIRT_RUNDIR");
	char *pf = xasprintf("%s/%s.pid", rd && *rd ? rd : "/run/libvirt/qemu", name);
	char *text = NULL, *cgf = NULL, *line, *save = NULL, *path = NULL;
	uint64_t pid;
	size_t len, n;
	int r;

	r = read_text_file(pf, &text, &len);
	if (r) {
		*err = xasprintf("cannot read qemu's pid file %s: %s", pf, strerror(-r));
		goto out;
	}
	text[strcspn(text, " \n")] = '\0';
	if (parse_u64_range(text, 1, IOB_PID_MAX, &pid)) {
		*err = xasprintf("%s: not a pid", pf);
		r = -EINVAL;
		goto out;
	}
	free(text);
	text = NULL;
	cgf = xasprintf("%s/%llu/cgroup", proc_root(), (unsigned long long)pid);
	r = read_text_file(cgf, &text, &len);
	if (r) {
		*err = xasprintf("qemu (pid %llu, from %s): %s: %s", (unsigned long long)pid, pf, cgf,
				 strerror(-r));
		goto out;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "0::/", 4))
			path = line + 4;
	if (!path) {
		*err = xasprintf("qemu (pid %llu) is in no cgroup v2 group (%s): ioband needs the unified hierarchy",
				 (unsigned long long)pid, cgf);
		r = -ENOENT;
		goto out;
	}
	/* libvirt puts qemu's threads below the machine's scope. */
	n = strlen(path);
	if (n >= 17 && !strcmp(path + n - 17, "/libvirt/emulator"))
		path[n - 17] = '\0';
	else if (n >= 9 && !strcmp(path + n - 9, "/emulator"))
		path[n - 9] = '\0';
	if (!*path) {
		*err = xasprintf("qemu (pid %llu) is in the root cgroup: libvirt gave it no machine scope",
				 (unsigned long long)pid);
		r = -EINVAL;
		goto out;
	}
	*out = xstrdup(path);
	r = 0;
out:
	free(pf);
	free(cgf);
	free(text);
	return r;
}

enum hook_act { H_NONE, H_PREPARE, H_RUN, H_STOP, H_RELEASE, H_CHECK };

/* The host file and every recorded guest but NAME, into CFG; exit code. */
static int load_others(const char *name, struct host_cfg *cfg)
{
	char *err = NULL;

	if (!lv_load_all(cfg, name, &err))
		return EX_OK;
	msg_err("%s", err);
	free(err);
	return EX_CONFIG;
}

/*
 * The same, checked against all of D's policy (shared devices, interfaces)
 * whatever the phase, so that a policy this host cannot meet is refused
 * before anything changes.
 */
static int load_checked(const struct lv_domain *d, struct host_cfg *cfg)
{
	struct cfg_guest g;
	char *err = NULL;
	int r = load_others(d->name, cfg);

	if (r)
		return r;
	r = lv_guest(d, LV_CHECK, NULL, &g, &err);
	if (!r)
		r = config_check_guest(cfg, &g, &err);
	if (!r)
		return EX_OK;
	config_free(cfg);
	msg_err("%s", err);
	free(err);
	return EX_CONFIG;
}

/*
 * Bring the host to CFG plus G (NULL: nothing added); CHECK_ONLY: plan, do
 * not execute.  CFG and G are consumed.
 */
static int converge(struct host_cfg *cfg, struct cfg_guest *g, bool check_only)
{
	struct plan p;
	char *err = NULL;
	int r;

	if (g && config_add_guest(cfg, g, &err)) {
		config_free(cfg);
		r = EX_CONFIG;
	} else {
		r = plan_for_config(cfg, &p, &err);
	}
	if (r) {
		msg_err("%s", err);
		free(err);
		return r;
	}
	if (verbose) {
		size_t i;

		for (i = 0; i < p.n; i++)
			action_print(&p.a[i], stderr);
	}
	r = check_only ? EX_OK : plan_execute(&p);
	plan_free(&p);
	return r;
}

static int hook_apply(const struct lv_domain *d, const char *xml, enum lv_phase ph)
{
	struct host_cfg cfg;
	struct record old;
	struct cfg_guest g;
	char *cg = NULL, *err = NULL;
	int r;

	r = load_checked(d, &cfg);
	if (r)
		return r;
	/* Only groups keyed by cgroup need qemu's (cgroup v2) cgroup. */
	if (ph == LV_RUNNING && needs_cgroup(d) && qemu_cgroup(d->name, &cg, &err)) {
		msg_err("%s", err);
		free(err);
		config_free(&cfg);
		return EX_FAIL;
	}
	if (lv_guest(d, ph, cg, &g, &err)) {
		msg_err("%s", err);
		free(err);
		free(cg);
		config_free(&cfg);
		return EX_CONFIG;
	}
	if (rec_load(d->name, &old, &err)) {
		msg_warn("%s (replaced)", err);
		free(err);
		memset(&old, 0, sizeof(old));
	}
	if (rec_save(d->name, ph == LV_RUNNING ? "running" : "prepared", cg, xml)) {
		config_guest_free(&g);
		config_free(&cfg);
		r = EX_FAIL;
	} else {
		r = converge(&cfg, &g, false);
	}
	if (r) {
		/* What converge did was undone: put the record back as it was. */
		if (old.exists)
			rec_save(d->name, old.phase, old.cgroup, old.xml);
		else
			rec_remove(d->name);
	}
	rec_free(&old);
	free(cg);
	return r;
}

/* Forget NAME (release) or take it back to "prepared" (stopped). */
static int hook_down(const char *name, bool release)
{
	struct host_cfg cfg;
	struct record rec;
	struct lv_domain d;
	struct cfg_guest g;
	char *err = NULL, *xp;
	int r;

	if (rec_load(name, &rec, &err)) {
		msg_err("%s", err);
		free(err);
		return EX_FAIL;
	}
	if (!rec.exists)
		return EX_OK;	/* not ours: left alone */
	if (release) {
		rec_remove(name);
		r = load_others(name, &cfg);
		if (!r)
			r = converge(&cfg, NULL, false);
		if (r)
			rec_save(name, rec.phase, rec.cgroup, rec.xml);
		rec_free(&rec);
		return r;
	}
	xp = rec_path(name, "xml");
	r = lv_parse(xp, rec.xml, strlen(rec.xml), &d, &err);
	free(xp);
	if (!r) {
		r = lv_guest(&d, LV_PREPARED, NULL, &g, &err);
		lv_domain_free(&d);
	}
	if (r) {
		msg_err("%s", err);
		free(err);
		rec_free(&rec);
		return EX_CONFIG;
	}
	r = load_others(name, &cfg);
	if (r) {
		config_guest_free(&g);
	} else if (rec_save(name, "prepared", NULL, rec.xml)) {
		config_guest_free(&g);
		config_free(&cfg);
		r = EX_FAIL;
	} else {
		r = converge(&cfg, &g, false);
	}
	if (r)
		rec_save(name, rec.phase, rec.cgroup, rec.xml);
	rec_free(&rec);
	return r;
}

static int hook_check(const struct lv_domain *d)
{
	struct host_cfg cfg;
	struct cfg_guest g;
	char *err = NULL;
	int r = load_checked(d, &cfg);

	if (r)
		return r;
	if (lv_guest(d, LV_PREPARED, NULL, &g, &err)) {
		msg_err("%s", err);
		free(err);
		config_free(&cfg);
		return EX_CONFIG;
	}
	return converge(&cfg, &g, true);
}

int lv_hook_qemu(const char *name, const char *op, const char *subop, const char *extra)
{
	static const struct {
		const char *op;
		enum hook_act act;
	} ops[] = {
		{ "prepare", H_PREPARE }, { "started", H_RUN }, { "reconnect", H_RUN },
		{ "attach", H_RUN }, { "stopped", H_STOP }, { "release", H_RELEASE },
		{ "migrate", H_CHECK }, { "restore", H_CHECK },
	};
	enum hook_act act = H_NONE;
	struct lv_domain d;
	char *xml = NULL, *err = NULL, *file;
	size_t len, i;
	bool usable;
	int r, lock;

	(void)subop;
	(void)extra;
	/* Read all of stdin first: libvirtd writes the XML and must not block. */
	r = read_text(stdin, &xml, &len);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(op, ops[i].op))
			act = ops[i].act;
	if (act == H_NONE) {	/* start, and operations newer than this hook */
		free(xml);
		return EX_OK;
	}
	/*
	 * NAME ends up in file names: never a path.  No record is ever made
	 * under such a name: a guest without a policy is left alone, one with
	 * a policy refused.
	 */
	usable = *name && name[0] != '.' && !strchr(name, '/');
	if (!usable && (act == H_STOP || act == H_RELEASE)) {
		free(xml);
		return EX_OK;
	}
	lock = lv_lock();
	if (lock < 0) {
		free(xml);
		return EX_FAIL;
	}
	if (act == H_STOP || act == H_RELEASE) {
		/* Go by what was recorded, whatever the XML says now. */
		r = hook_down(name, act == H_RELEASE);
		goto out;
	}
	file = xasprintf("domain %s (%s)", quote_if_needed(name), op);
	if (r) {
		msg_err("%s: cannot read the domain XML on stdin", file);
		free(file);
		r = EX_FAIL;
		goto out;
	}
	r = lv_parse(file, xml, len, &d, &err);
	free(file);
	if (r) {
		msg_err("guest %s: %s: %s", quote_if_needed(name), op, err);
		free(err);
		r = EX_CONFIG;
	} else if (!usable && !d.has_policy) {
		r = EX_OK;
	} else if (!usable) {
		msg_err("guest %s: not a usable domain name", quote(name));
		r = EX_FAIL;
	} else if (strcmp(d.name, name)) {
		msg_err("guest %s: %s: the domain XML names %s", quote_if_needed(name), op,
			quote(d.name));
		r = EX_FAIL;
	} else if (!d.has_policy) {
		/* Not ours; a record left by a guest that died unseen goes. */
		r = act == H_PREPARE ? hook_down(name, true) : EX_OK;
	} else if (act == H_CHECK) {
		r = hook_check(&d);
	} else {
		r = hook_apply(&d, xml, act == H_PREPARE ? LV_PREPARED : LV_RUNNING);
	}
	if (r && act == H_RUN && !strcmp(op, "reconnect")) {
		/* A failed reconnect hook kills a guest that ran fine. */
		msg_warn("guest %s: reconnect: policy not re-applied (see above); the guest keeps running",
			 quote_if_needed(name));
		r = EX_OK;
	} else if (r) {
		msg_err("guest %s: %s: refused", quote_if_needed(name), op);
	}
	lv_domain_free(&d);
out:
	lv_unlock(lock);
	free(xml);
	return r;
}
