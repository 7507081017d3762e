/*
 * Why a named segment was refused (-SHMKIT_EUNTRUSTED): whose it is and
 * its mode, so the user can tell a squatter from a mode they chose.
 */
#include <pwd.h>
#include <unistd.h>

#include "cli.h"

static const char *user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : "?";
}

void err_untrusted(const char *cmd, const char *name, int mode, const char *option)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	struct shmkit_seg_info info;
	int shmid = shmkit_seg_open(&ref);
	uid_t me = geteuid();

	if (mode == SHMKIT_MODE_DEFAULT)
		mode = 0600;
	if (shmid < 0 || shmkit_seg_stat(shmid, &info) < 0) {
		err_msg(cmd, "%s: %s", name, shmkit_strerror(-SHMKIT_EUNTRUSTED));
		return;
	}
	if (info.uid != me || info.cuid != me)
		err_msg(cmd, "%s: made by uid %u (%s) and owned by uid %u (%s), mode %04o, not "
			"by you: refused, as its owner could read or forge what passes "
			"through it (%s to use it anyway)", name, (unsigned)info.cuid,
			user_name(info.cuid), (unsigned)info.uid, user_name(info.uid),
			info.mode, option);
	else
		err_msg(cmd, "%s: mode %04o lets in more users than the %04o asked for: "
			"refused (-m %04o, or %s, to use it anyway)", name, info.mode,
			(unsigned)mode, info.mode, option);
}
