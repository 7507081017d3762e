/*
 * shmkit doctor: the segments of this IPC namespace, as ls sees them:
 * orphans, segments marked for removal that processes still hold, and
 * segments anyone may write. Pending ones wait for a reader: no problem.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"

#define SHOWN 8		/* segments named in the text; --json lists all */

typedef int (*seg_test)(const struct shmkit_seg_info *i);

static int is_orphan(const struct shmkit_seg_info *i)
{
	return i->state == SHMKIT_STATE_ORPHAN;
}

static int is_removing(const struct shmkit_seg_info *i)
{
	return i->state == SHMKIT_STATE_REMOVING;
}

static int is_world_writable(const struct shmkit_seg_info *i)
{
	return (i->mode & 002) != 0;
}

/* "shmid 5 (name x, user alice, mode 0666)": raw, escaped when printed. */
static void describe(struct doc_check *c, const struct shmkit_seg_info *i)
{
	struct passwd *pw = getpwuid(i->uid);

	doc_found(c, "shmid %d (", i->shmid);
	if (i->flags & SHMKIT_INFO_NAMED)
		doc_found(c, "name %s, ", i->name);
	if (pw)
		doc_found(c, "user %.32s, mode %04o)", pw->pw_name, i->mode);
	else
		doc_found(c, "uid %u, mode %04o)", (unsigned)i->uid, i->mode);
}

/* The pids that hold shmid into JSON, and the first few into the text if say. */
static void holders(struct doc_check *c, int say, int shmid, const struct shmkit_proc *p,
		    int np, int partial)
{
	int n = 0;

	fputs(", \"pids\": [", c->json);
	for (int k = 0; k < np; k++) {
		if (p[k].shmid != shmid)
			continue;
		if (say && n < SHOWN)
			doc_found(c, "%s%d", n ? "," : " held by pid ", (int)p[k].pid);
		fprintf(c->json, "%s%d", n++ ? ", " : "", (int)p[k].pid);
	}
	fputs("]", c->json);
	/* processes whose maps we may not read still hold it */
	if (say && (!n || partial))
		doc_found(c, "%s?", n ? "," : " held by pid ");
}

/*
 * One check over the list: counts what test picks, names the first SHOWN
 * in the text after "N what", and all in details "segments" (with the
 * pids holding each if np >= 0). Returns the count.
 */
static int pick(struct doc_check *c, const char *what, const struct shmkit_seg_info *list,
		int n, seg_test test, const struct shmkit_proc *procs, int np, int partial)
{
	FILE *json;
	int count = 0, k, i = 0;

	for (k = 0; k < n; k++)
		count += test(&list[k]) != 0;
	if (count)
		doc_found(c, "%d %s", count, what);
	else
		doc_found(c, "none among %d segments", n);
	json = doc_member(c, "segments");
	fputs("[", json);
	for (k = 0; k < n; k++) {
		const struct shmkit_seg_info *s = &list[k];

		if (!test(s))
			continue;
		if (i < SHOWN) {
			doc_found(c, "%s", i ? "; " : ": ");
			describe(c, s);
		}
		fprintf(json, "%s{\"shmid\": %d, \"key\": %u, \"name\": ", i ? ", " : "",
			s->shmid, (unsigned)s->key);
		if (s->flags & SHMKIT_INFO_NAMED)
			json_str(json, s->name);
		else
			fputs("null", json);
		fprintf(json, ", \"uid\": %u, \"mode\": \"%04o\", \"persistent\": %s",
			(unsigned)s->uid, s->mode, (s->flags & SHMKIT_INFO_PERSIST) ? "true" :
			"false");
		if (np >= 0)
			holders(c, i < SHOWN, s->shmid, procs, np, partial);
		fputs("}", json);
		i++;
	}
	fputs("]", json);
	if (count > SHOWN)
		doc_found(c, "; and %d more", count - SHOWN);
	doc_num(c, "count", (uint64_t)count);
	return count;
}

/* What removes the orphans in list, as one sentence for the fix. */
static void orphan_fix(struct doc_check *c, const struct shmkit_seg_info *list, int n, uid_t me)
{
	int gc = 0, foreign = 0, kept = 0, unread = 0, others = 0;

	for (int k = 0; k < n; k++) {
		unsigned f = list[k].flags;

		if (!is_orphan(&list[k]))
			continue;
		gc += (f & SHMKIT_INFO_NAMED) && !(f & SHMKIT_INFO_PERSIST);
		kept += (f & SHMKIT_INFO_PERSIST) != 0;
		foreign += !(f & (SHMKIT_INFO_NAMED | SHMKIT_INFO_UNREAD));
		unread += (f & SHMKIT_INFO_UNREAD) != 0;
		others += me != 0 && me != list[k].uid && me != list[k].cuid;
	}
	doc_fix(c, "once sure nobody comes back for them:");
	if (gc)
		doc_fix(c, " 'shmkit gc' removes the shmkit ones;");
	if (foreign)
		doc_fix(c, " 'shmkit gc --foreign' removes those without a shmkit header;");
	if (kept)
		doc_fix(c, " 'shmkit rm SHMID' the persistent ones (shmkit mk -n);");
	if (unread)
		doc_fix(c, " those whose header you may not read, 'shmkit gc' as their owner "
			"or root;");
	if (others)
		doc_fix(c, " only their owner, their creator or root may remove %d of them;",
			others);
	c->fix[strlen(c->fix) - 1] = '\0';
}

void check_segments(struct doc_check *orph, struct doc_check *rem, struct doc_check *world)
{
	struct doc_check *all[3] = { orph, rem, world };
	struct shmkit_seg_info *list = NULL;
	struct shmkit_proc *procs = NULL;
	int n = shmkit_seg_list(&list), np, partial = 0;

	if (n < 0) {
		for (int k = 0; k < 3; k++) {
			doc_status(all[k], DOC_SKIP);
			doc_found(all[k], "cannot list the segments: %s", shmkit_strerror(n));
		}
		return;
	}
	if (pick(orph, "orphaned", list, n, is_orphan, NULL, -1, 0)) {
		doc_status(orph, DOC_WARN);
		orphan_fix(orph, list, n, geteuid());
	}
	if ((np = shmkit_seg_procs(-1, &procs, &partial)) < 0) {
		np = 0;
		partial = 1;
	}
	if (pick(rem, "marked for removal and still attached", list, n, is_removing, procs,
		 np, partial)) {
		doc_status(rem, DOC_WARN);
		doc_fix(rem, "the kernel frees each at its last detach: stop or restart the "
			"processes that hold them%s", partial ? " (run as root to see all)" : "");
	}
	if (pick(world, "world-writable", list, n, is_world_writable, NULL, -1, 0)) {
		doc_status(world, DOC_WARN);
		doc_fix(world, "anyone here can write into them: make them anew with a narrower "
			"mode (shmkit mk -m 0600, or the library's SHMKIT_MODE_DEFAULT) and "
			"'shmkit rm' the old ones once nobody uses them");
	}
	shmkit_free(procs);
	shmkit_free(list);
}
