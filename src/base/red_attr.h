/*
 * red_attr - compiler attributes used across reducerd's headers.
 */
#ifndef RED_ATTR_H
#define RED_ATTR_H

/** The caller must look at the result (an error code or an owned object);
 * pgbouncer's _MUSTCHECK. */
#define RED_MUSTCHECK __attribute__((warn_unused_result))

/** printf-style format checking: @p f is the format's argument number,
 * @p a the first variadic one. */
#define RED_PRINTF(f, a) __attribute__((format(printf, f, a)))

#endif
