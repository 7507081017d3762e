/*
 * Inboxes and services against a second user (as root; skipped
 * otherwise): another user cannot join, open or call what root made with
 * the default mode (-EACCES); an inbox or service that another user made
 * first under a name root then uses is refused (-SHMKIT_EUNTRUSTED) by
 * every call, create-or-open included, unless SHMKIT_SHARED says it is
 * meant; and one made open on purpose (0666) carries messages and calls
 * between the two users.
 */
#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534

struct job {
	char name[64];
	int step;
};

enum { TRY_JOIN, TRY_OPEN, TRY_CLIENT, SQUAT_INBOX, SQUAT_SERVICE, SEND, CALL };

/* In a child, as nobody: 0 when the step did what the test expects. */
static int as_nobody(void *arg)
{
	struct job *j = arg;
	struct shmkit_chan *p;
	struct shmkit_inbox *ib;
	struct shmkit_client *cl;
	char rep[16];
	size_t len;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 90;
	switch (j->step) {
	case TRY_JOIN:
		return shmkit_inbox_join(j->name, SHMKIT_SHARED, &p) == -EACCES ? 0 : 1;
	case TRY_OPEN:
		return shmkit_inbox_open(j->name, SHMKIT_SHARED, &ib) == -EACCES ? 0 : 1;
	case TRY_CLIENT:
		return shmkit_client_open(j->name, SHMKIT_SHARED, &cl) == -EACCES ? 0 : 1;
	case SQUAT_INBOX:
		return shmkit_inbox_create(j->name, 2, 4096, 0666, SHMKIT_EXCL) >= 0 ? 0 : 1;
	case SQUAT_SERVICE:
		return shmkit_service_create(j->name, 2, 4096, 0666, SHMKIT_EXCL) >= 0 ? 0 : 1;
	case SEND:
		if (shmkit_inbox_join(j->name, SHMKIT_SHARED, &p) < 0 ||
		    shmkit_chan_send(p, "from nobody", 11, 5000) < 0)
			return 1;
		return shmkit_chan_close(p) < 0 ? 2 : 0;
	case CALL:
		if (shmkit_client_open(j->name, SHMKIT_SHARED, &cl) < 0 ||
		    shmkit_client_call(cl, "ping", 4, rep, sizeof(rep), &len, 5000) < 0 ||
		    len != 4 || memcmp(rep, "pong", 4) != 0)
			return 1;
		return shmkit_client_close(cl) < 0 ? 2 : 0;
	}
	return 99;
}

static int run(const char *name, int step)
{
	struct job j = { .step = step };

	memcpy(j.name, name, strlen(name) + 1);
	return t_wait(t_fork(as_nobody, &j));
}

static int shmid_of(const char *name)
{
	return shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
}

int main(void)
{
	struct shmkit_service *srv;
	struct shmkit_inbox *ib;
	struct shmkit_client *cl;
	struct shmkit_request req;
	struct shmkit_chan *p;
	char ibx[64], svc[64], buf[32];
	size_t len;
	pid_t pid;

	if (geteuid() != 0)
		t_skip("needs root to act as a second user");

	/* root's, default mode: closed to nobody */
	T_OK(t_track(shmkit_inbox_create(t_name(ibx, sizeof(ibx), "tr-ib"), 2, 4096,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(t_track(shmkit_service_create(t_name(svc, sizeof(svc), "tr-svc"), 2, 4096,
					   SHMKIT_MODE_DEFAULT, 0)));
	T_EQ(run(ibx, TRY_JOIN), 0);
	T_EQ(run(ibx, TRY_OPEN), 0);
	T_EQ(run(svc, TRY_CLIENT), 0);
	T_OK(shmkit_inbox_destroy(ibx));
	T_OK(shmkit_service_destroy(svc));

	/* nobody's, made first under the names root uses: refused unless shared */
	t_name(ibx, sizeof(ibx), "tr-squat-ib");
	t_name(svc, sizeof(svc), "tr-squat-svc");
	T_EQ(run(ibx, SQUAT_INBOX), 0);
	T_EQ(run(svc, SQUAT_SERVICE), 0);
	T_OK(t_track(shmid_of(ibx)));
	T_OK(t_track(shmid_of(svc)));
	T_EQ(shmkit_inbox_create(ibx, 2, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_inbox_join(ibx, 0, &p), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_inbox_open(ibx, 0, &ib), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_service_create(svc, 2, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_service_open(svc, 0, &srv), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_client_open(svc, 0, &cl), -SHMKIT_EUNTRUSTED);

	/* shared on purpose: messages and calls cross between the users */
	T_OK(shmkit_inbox_open(ibx, SHMKIT_SHARED, &ib));
	T_EQ(run(ibx, SEND), 0);
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 5000));
	T_EQ(len, 11);
	T_ASSERT(memcmp(buf, "from nobody", 11) == 0);
	T_OK(shmkit_inbox_close(ib));

	T_OK(shmkit_service_open(svc, SHMKIT_SHARED, &srv));
	{
		struct job j = { .step = CALL };

		memcpy(j.name, svc, sizeof(svc));
		pid = t_fork(as_nobody, &j);
	}
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 5000));
	T_EQ(len, 4);
	T_OK(shmkit_service_reply(srv, &req, "pong", 4, 5000));
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_service_close(srv));
	return 0;
}
