/*
 * banned.h — make unsafe C string functions fail to compile (git's idea).
 * Use snprintf, brm_xasprintf, or struct brm_buf instead.
 */
#ifndef BRM_BANNED_H
#define BRM_BANNED_H

#define BRM_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BRM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) BRM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BRM_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BRM_BANNED(strncat)
#undef sprintf
#define sprintf(...) BRM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BRM_BANNED(vsprintf)
#undef gets
#define gets(x) BRM_BANNED(gets)
#undef strtok
#define strtok(x, y) BRM_BANNED(strtok)

#endif
