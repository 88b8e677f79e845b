/* SPDX-License-Identifier: MIT */
/* test_sim_grant.c - grant copy / map / share semantics of the sim platform, every GNTST_* path. */
/*
 * Two domains in one process (two sessions): A grants, B copies and maps.
 * Each test gets a fresh xnb-simd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#include "platform.h"
#include "sim.h"
#include "sim_fixture.h"

struct gfix {
	struct simd_proc simd;
	const struct platform_ops *ops;
	struct platform *a, *b;
	struct platform_gntshr *sa;
	struct platform_gnttab *gb;
};

static int gfix_setup(void **state)
{
	struct gfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_simd_start(&f->simd), 0);
	f->ops = fixture_sim();
	assert_non_null(f->ops);
	f->a = f->ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(f->a);
	f->b = f->ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(f->b);
	assert_int_not_equal(f->ops->domid(f->a), f->ops->domid(f->b));
	f->sa = f->ops->gntshr_open(f->a);
	f->gb = f->ops->gnttab_open(f->b);
	assert_non_null(f->sa);
	assert_non_null(f->gb);
	assert_int_equal(f->ops->gnttab_fd(f->gb), -1);
	assert_int_equal(f->ops->gntshr_fd(f->sa), -1);
	*state = f;
	return 0;
}

static int gfix_teardown(void **state)
{
	struct gfix *f = *state;

	f->ops->gnttab_close(f->gb);
	f->ops->gntshr_close(f->sa);
	if (f->a)
		f->ops->close(f->a);
	f->ops->close(f->b);
	assert_int_equal(fixture_simd_stop(&f->simd), 0);
	free(f);
	return 0;
}

static uint16_t dom_of(struct gfix *f, struct platform *p)
{
	return (uint16_t)f->ops->domid(p);
}

/* One foreign->local or local->foreign segment. */
static int16_t copy1(struct gfix *f, bool from_grant, uint16_t domid, uint32_t ref,
		     uint16_t off, void *local, uint16_t len)
{
	struct engine_copy_seg sg = { .len = len };

	if (from_grant) {
		sg.flags = GNTCOPY_source_gref;
		sg.source.foreign.domid = domid;
		sg.source.foreign.ref = ref;
		sg.source.foreign.offset = off;
		sg.dest.virt = local;
	} else {
		sg.flags = GNTCOPY_dest_gref;
		sg.dest.foreign.domid = domid;
		sg.dest.foreign.ref = ref;
		sg.dest.foreign.offset = off;
		sg.source.virt = local;
	}
	sg.status = 99;
	assert_int_equal(f->ops->gnttab_copy(f->gb, &sg, 1), 0);
	return sg.status;
}

static uint16_t flags_of(struct gfix *f, uint32_t ref)
{
	unsigned n;
	struct grant_entry_v1 *gt = platform_sim_grant_table(f->a, &n);

	assert_true(ref < n);
	return __atomic_load_n(&gt[ref].flags, __ATOMIC_ACQUIRE);
}

static void test_copy_ok(void **state)
{
	struct gfix *f = *state;
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true);
	uint8_t buf[4096];

	assert_non_null(pg);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(pg[i], 0);  /* shared pages start zeroed */
	for (int i = 0; i < 4096; i++)
		pg[i] = (uint8_t)(i * 7);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 100, buf, 200), GNTST_okay);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf[i], (uint8_t)((i + 100) * 7));
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 0, buf, 4096), GNTST_okay);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(pg[i], 0xab);
	/* Nothing left in flight. */
	assert_int_equal(flags_of(f, ref) & (GTF_reading | GTF_writing), 0);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), 0);
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), -ENOENT);
}

static void test_copy_grant_to_grant(void **state)
{
	struct gfix *f = *state;
	uint32_t refs[2];
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 2, refs, true);
	struct engine_copy_seg sg = { .len = 64, .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref };

	assert_non_null(pg);
	memset(pg, 0x5a, 64);
	sg.source.foreign.domid = sg.dest.foreign.domid = dom_of(f, f->a);
	sg.source.foreign.ref = refs[0];
	sg.dest.foreign.ref = refs[1];
	sg.dest.foreign.offset = 10;
	assert_int_equal(f->ops->gnttab_copy(f->gb, &sg, 1), 0);
	assert_int_equal(sg.status, GNTST_okay);
	assert_int_equal(pg[4096 + 10], 0x5a);
	assert_int_equal(pg[4096 + 73], 0x5a);
	assert_int_equal(pg[4096 + 74], 0);
}

static void test_copy_bad_gntref(void **state)
{
	struct gfix *f = *state;
	unsigned n;
	uint8_t buf[16];

	platform_sim_grant_table(f->a, &n);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), n, 0, buf, 16), GNTST_bad_gntref);
	assert_int_equal(copy1(f, false, dom_of(f, f->a), 0xffffffffu, 0, buf, 16),
			 GNTST_bad_gntref);
}

static void test_copy_not_granted(void **state)
{
	struct gfix *f = *state;
	uint8_t buf[16];
	uint32_t ref;

	/* Never granted (a reserved ref) and a grant whose access ended:
	 * Xen's _set_status_v1 says GNTST_general_error for both. */
	assert_int_equal(copy1(f, true, dom_of(f, f->a), 3, 0, buf, 16), GNTST_general_error);
	assert_non_null(f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true));
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), 0);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 0, buf, 16), GNTST_general_error);
	assert_int_equal(flags_of(f, ref), 0);
}

static void test_copy_wrong_domid(void **state)
{
	struct gfix *f = *state;
	uint8_t buf[16];
	uint32_t ref;
	uint16_t other = (uint16_t)(dom_of(f, f->b) + 100);

	assert_non_null(f->ops->gntshr_share(f->sa, other, 1, &ref, true));
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 0, buf, 16), GNTST_general_error);
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 0, buf, 16), GNTST_general_error);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);
}

static void test_copy_readonly(void **state)
{
	struct gfix *f = *state;
	uint8_t buf[16] = { 1, 2, 3 };
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, false);

	assert_non_null(pg);
	pg[0] = 42;
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_readonly);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 0, buf, 16), GNTST_okay);
	assert_int_equal(buf[0], 42);
	/* Xen: "Attempt to write-pin a r/o grant entry" -> GNTST_general_error. */
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 0, buf, 16), GNTST_general_error);
	assert_int_equal(pg[0], 42);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_readonly);
}

static void test_copy_bad_page(void **state)
{
	struct gfix *f = *state;
	unsigned n;
	struct grant_entry_v1 *gt = platform_sim_grant_table(f->a, &n);
	uint8_t buf[16];
	uint32_t ref = n - 1;

	gt[ref].domid = dom_of(f, f->b);
	gt[ref].frame = platform_sim_pages(f->a);  /* one past the end */
	__atomic_store_n(&gt[ref].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 0, buf, 16), GNTST_bad_page);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);  /* pin undone */
	gt[ref].frame = 0xfffffff0u;
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 0, buf, 16), GNTST_bad_page);
	gt[ref].flags = 0;
}

static void test_copy_bad_copy_arg(void **state)
{
	struct gfix *f = *state;
	uint8_t buf[4096];
	uint32_t ref;

	assert_non_null(f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true));
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 4000, buf, 97), GNTST_bad_copy_arg);
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 1, buf, 4096), GNTST_bad_copy_arg);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), ref, 4000, buf, 96), GNTST_okay);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);
}

static void test_copy_bad_domain(void **state)
{
	struct gfix *f = *state;
	uint8_t buf[16];
	uint32_t ref;
	uint16_t a = dom_of(f, f->a);
	int16_t st = GNTST_okay;

	assert_int_equal(copy1(f, true, 999, 8, 0, buf, 16), GNTST_bad_domain);
	assert_int_equal(copy1(f, true, 5000, 8, 0, buf, 16), GNTST_bad_domain);
	assert_int_equal(copy1(f, true, DOMID_FIRST_RESERVED + 1, 8, 0, buf, 16), GNTST_bad_domain);
	assert_non_null(f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true));
	assert_int_equal(copy1(f, true, a, ref, 0, buf, 16), GNTST_okay);
	/* Domain A dies: its grants now fail with bad_domain. */
	f->ops->gntshr_close(f->sa);
	f->sa = NULL;
	f->ops->close(f->a);
	f->a = NULL;
	for (int i = 0; i < 500; i++) {
		st = copy1(f, true, a, ref, 0, buf, 16);
		if (st == GNTST_bad_domain)
			break;
		/* Until simd has seen the death: access already ended by gntshr_close. */
		assert_int_equal(st, GNTST_general_error);
		usleep(10000);
	}
	assert_int_equal(st, GNTST_bad_domain);
	f->sa = f->ops->gntshr_open(f->b);  /* keep teardown simple */
}

static void test_copy_batch(void **state)
{
	struct gfix *f = *state;
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true);
	uint8_t b0[8], b2[8];
	struct engine_copy_seg sg[3] = {
		{ .len = 8, .flags = GNTCOPY_source_gref },
		{ .len = 8, .flags = GNTCOPY_source_gref },
		{ .len = 8, .flags = GNTCOPY_dest_gref },
	};

	assert_non_null(pg);
	memset(pg, 7, 8);
	memset(b2, 9, 8);
	sg[0].source.foreign.domid = dom_of(f, f->a);
	sg[0].source.foreign.ref = ref;
	sg[0].dest.virt = b0;
	sg[1].source.foreign.domid = 998;
	sg[1].dest.virt = b0;
	sg[2].dest.foreign.domid = dom_of(f, f->a);
	sg[2].dest.foreign.ref = ref;
	sg[2].dest.foreign.offset = 100;
	sg[2].source.virt = b2;
	assert_int_equal(f->ops->gnttab_copy(f->gb, sg, 3), 0);
	assert_int_equal(sg[0].status, GNTST_okay);
	assert_int_equal(sg[1].status, GNTST_bad_domain);
	assert_int_equal(sg[2].status, GNTST_okay);
	assert_int_equal(b0[7], 7);
	assert_int_equal(pg[107], 9);
	/* A local-to-local segment: the whole batch is refused, as gntdev does. */
	sg[1].flags = 0;
	sg[1].source.virt = b2;
	assert_int_equal(f->ops->gnttab_copy(f->gb, sg, 3), -EINVAL);
	/* ... and no status is left reading okay from the call before. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(sg[i].status, GNTST_general_error);
}

static void test_map_ok_end_access_busy(void **state)
{
	struct gfix *f = *state;
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true);
	int16_t st = 99;
	uint8_t *m;

	assert_non_null(pg);
	pg[5] = 55;
	m = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, true, &st);
	assert_non_null(m);
	assert_int_equal(st, GNTST_okay);
	assert_int_equal(m[5], 55);
	m[6] = 66;  /* the same memory */
	assert_int_equal(pg[6], 66);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading | GTF_writing);
	/* The granting side cannot end access while mapped. */
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), -EBUSY);
	assert_int_equal(f->ops->gntshr_unshare(f->sa, pg, 1), -EBUSY);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(f->ops->gnttab_unmap(f->gb, m), 0);
	assert_int_equal(f->ops->gnttab_unmap(f->gb, m), -EINVAL);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), 0);
	m = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, false, &st);
	assert_null(m);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(st, GNTST_general_error);
	assert_int_equal(f->ops->gntshr_unshare(f->sa, pg, 1), 0);
}

static void test_map_readonly(void **state)
{
	struct gfix *f = *state;
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, false);
	int16_t st = 99;
	uint8_t *m;

	assert_non_null(pg);
	m = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, true, &st);
	assert_null(m);
	assert_int_equal(st, GNTST_general_error);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_readonly);
	m = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, false, &st);
	assert_non_null(m);
	assert_int_equal(st, GNTST_okay);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_readonly | GTF_reading);
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), -EBUSY);
	assert_int_equal(f->ops->gnttab_unmap(f->gb, m), 0);
	assert_int_equal(f->ops->gntshr_end_access(f->sa, ref), 0);
}

static void test_map_twice_and_copy(void **state)
{
	struct gfix *f = *state;
	uint32_t ref;
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 1, &ref, true);
	uint8_t buf[4] = { 1, 2, 3, 4 };
	uint8_t *m1, *m2;

	assert_non_null(pg);
	m1 = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, false, NULL);
	assert_non_null(m1);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading);
	/* A write copy while read-mapped: writing only during the copy. */
	assert_int_equal(copy1(f, false, dom_of(f, f->a), ref, 0, buf, 4), GNTST_okay);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading);
	assert_int_equal(m1[3], 4);
	m2 = f->ops->gnttab_map(f->gb, dom_of(f, f->a), ref, true, NULL);
	assert_non_null(m2);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(f->ops->gnttab_unmap(f->gb, m2), 0);
	assert_int_equal(flags_of(f, ref), GTF_permit_access | GTF_reading);
	assert_int_equal(f->ops->gnttab_unmap(f->gb, m1), 0);
	assert_int_equal(flags_of(f, ref), GTF_permit_access);
}

static void test_map_errors(void **state)
{
	struct gfix *f = *state;
	unsigned n;
	struct grant_entry_v1 *gt = platform_sim_grant_table(f->a, &n);
	uint16_t a = dom_of(f, f->a);
	int16_t st;
	uint32_t ref;

	assert_null(f->ops->gnttab_map(f->gb, a, n, false, &st));
	assert_int_equal(st, GNTST_bad_gntref);
	assert_null(f->ops->gnttab_map(f->gb, 777, 8, false, &st));
	assert_int_equal(st, GNTST_bad_domain);
	assert_int_equal(errno, EINVAL);
	assert_null(f->ops->gnttab_map(f->gb, a, 4, false, &st));
	assert_int_equal(st, GNTST_general_error);
	assert_non_null(f->ops->gntshr_share(f->sa, (uint16_t)(a + 50), 1, &ref, true));
	assert_null(f->ops->gnttab_map(f->gb, a, ref, false, &st));
	assert_int_equal(st, GNTST_general_error);
	gt[n - 2].domid = dom_of(f, f->b);
	gt[n - 2].frame = platform_sim_pages(f->a) + 3;
	__atomic_store_n(&gt[n - 2].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
	assert_null(f->ops->gnttab_map(f->gb, a, n - 2, true, &st));
	assert_int_equal(st, GNTST_bad_page);
	assert_int_equal(flags_of(f, n - 2), GTF_permit_access);
}

static void test_share_unshare(void **state)
{
	struct gfix *f = *state;
	uint32_t refs[3], refs2[3];
	uint8_t buf[8];
	uint8_t *pg = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 3, refs, true);
	uint8_t *pg2;

	assert_non_null(pg);
	assert_true(refs[0] >= 8 && refs[1] != refs[0] && refs[2] != refs[1]);
	memset(pg, 1, 3 * 4096);  /* contiguous local mapping */
	assert_int_equal(f->ops->gntshr_unshare(f->sa, pg, 2), -EINVAL);
	assert_int_equal(f->ops->gntshr_unshare(f->sa, pg, 3), 0);
	assert_int_equal(copy1(f, true, dom_of(f, f->a), refs[1], 0, buf, 8), GNTST_general_error);
	pg2 = f->ops->gntshr_share(f->sa, dom_of(f, f->b), 3, refs2, true);
	assert_non_null(pg2);
	assert_int_equal(pg2[100], 0);  /* reused pages are zeroed again */
	assert_null(f->ops->gntshr_share(f->sa, dom_of(f, f->b), 0, refs2, true));
	assert_int_equal(errno, EINVAL);
	assert_null(f->ops->gntshr_share(f->sa, dom_of(f, f->b), platform_sim_pages(f->a), refs2,
					 true));
	assert_int_equal(errno, ENOSPC);
}

static void test_platform_by_name(void **state)
{
	(void)state;
	assert_non_null(platform_by_name("sim"));
	assert_string_equal(platform_by_name("sim")->name, "sim");
	assert_null(platform_by_name("nope"));
	assert_int_equal(errno, ENOENT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, gfix_setup, gfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_by_name),
		T(test_copy_ok),
		T(test_copy_grant_to_grant),
		T(test_copy_bad_gntref),
		T(test_copy_not_granted),
		T(test_copy_wrong_domid),
		T(test_copy_readonly),
		T(test_copy_bad_page),
		T(test_copy_bad_copy_arg),
		T(test_copy_bad_domain),
		T(test_copy_batch),
		T(test_map_ok_end_access_busy),
		T(test_map_readonly),
		T(test_map_twice_and_copy),
		T(test_map_errors),
		T(test_share_unshare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
