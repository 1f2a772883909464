/* The scalar domain: what a register may hold as 64/32-bit signed/unsigned ranges and known bits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verifier_private.h"

/* One width's worth of a scalar (64 bits, or the low 32 bits of the register). At 32 bits the
 * unsigned bounds lie in [0, 2^32), the signed ones in [-2^31, 2^31) and value/mask have their
 * upper halves clear. */
typedef struct view {
    uint64_t umin, umax;
    int64_t smin, smax;
    uint64_t value, mask;
} view_t;

#define LOW32(x) ((uint64_t)(uint32_t)(x))

enum {
    OP_NSET = 0x100, /* internal: "dst & src == 0", the negation of JSET */
};

static uint64_t width_umax(unsigned width)
{
    return width == 64 ? UINT64_MAX : UINT32_MAX;
}

static int64_t width_smin(unsigned width)
{
    return width == 64 ? INT64_MIN : INT32_MIN;
}

static int64_t width_smax(unsigned width)
{
    return width == 64 ? INT64_MAX : INT32_MAX;
}

static uint64_t width_truncate(uint64_t x, unsigned width)
{
    return width == 64 ? x : LOW32(x);
}

/* The value of the low `width` bits of x read as signed. */
static int64_t width_signed(uint64_t x, unsigned width)
{
    return width == 64 ? (int64_t)x : (int64_t)(int32_t)(uint32_t)x;
}

static void view_full(view_t *view, unsigned width)
{
    *view =
        (view_t){0, width_umax(width), width_smin(width), width_smax(width), 0, width_umax(width)};
}

static void view_constant(view_t *view, uint64_t value, unsigned width)
{
    value = width_truncate(value, width);
    *view =
        (view_t){value, value, width_signed(value, width), width_signed(value, width), value, 0};
}

static view_t view_of(const scalar_t *scalar, unsigned width)
{
    if (width == 64)
        return (view_t){scalar->umin, scalar->umax,  scalar->smin,
                        scalar->smax, scalar->value, scalar->mask};
    return (view_t){scalar->u32min, scalar->u32max,       scalar->s32min,
                    scalar->s32max, LOW32(scalar->value), LOW32(scalar->mask)};
}

static void view_store(scalar_t *scalar, const view_t *view, unsigned width)
{
    if (width == 64) {
        scalar->umin = view->umin;
        scalar->umax = view->umax;
        scalar->smin = view->smin;
        scalar->smax = view->smax;
        scalar->value = view->value;
        scalar->mask = view->mask;
        return;
    }
    scalar->u32min = (uint32_t)view->umin;
    scalar->u32max = (uint32_t)view->umax;
    scalar->s32min = (int32_t)view->smin;
    scalar->s32max = (int32_t)view->smax;
    scalar->value = (scalar->value & ~(uint64_t)UINT32_MAX) | LOW32(view->value);
    scalar->mask = (scalar->mask & ~(uint64_t)UINT32_MAX) | LOW32(view->mask);
}

/* ---- known bits ---- */

typedef struct bits {
    uint64_t value, mask;
} bits_t;

static bits_t bits_range(uint64_t min, uint64_t max)
{
    uint64_t differing = min ^ max;
    if (differing == 0)
        return (bits_t){min, 0};
    unsigned top = 64 - (unsigned)__builtin_clzll(differing);
    if (top >= 64)
        return (bits_t){0, UINT64_MAX};
    uint64_t low = (1ull << top) - 1;
    return (bits_t){min & ~low, low};
}

static bits_t bits_add(bits_t a, bits_t b)
{
    uint64_t mask_sum = a.mask + b.mask;
    uint64_t value_sum = a.value + b.value;
    /* Bits where an unknown input could change a carry are unknown in the result. */
    uint64_t carries = (mask_sum + value_sum) ^ value_sum;
    uint64_t unknown = carries | a.mask | b.mask;
    return (bits_t){value_sum & ~unknown, unknown};
}

static bits_t bits_sub(bits_t a, bits_t b)
{
    uint64_t difference = a.value - b.value;
    uint64_t highest = difference + a.mask;
    uint64_t lowest = difference - b.mask;
    uint64_t unknown = (highest ^ lowest) | a.mask | b.mask;
    return (bits_t){difference & ~unknown, unknown};
}

static bits_t bits_and(bits_t a, bits_t b)
{
    uint64_t may_a = a.value | a.mask, may_b = b.value | b.mask;
    uint64_t value = a.value & b.value;
    return (bits_t){value, may_a & may_b & ~value};
}

static bits_t bits_or(bits_t a, bits_t b)
{
    uint64_t value = a.value | b.value;
    return (bits_t){value, (a.mask | b.mask) & ~value};
}

static bits_t bits_xor(bits_t a, bits_t b)
{
    uint64_t unknown = a.mask | b.mask;
    return (bits_t){(a.value ^ b.value) & ~unknown, unknown};
}

/* Multiplication keeps only the low zero bits both factors guarantee. */
static bits_t bits_mul(bits_t a, bits_t b)
{
    if (a.mask == 0 && b.mask == 0)
        return (bits_t){a.value * b.value, 0};
    uint64_t may_a = a.value | a.mask, may_b = b.value | b.mask;
    if (may_a == 0 || may_b == 0)
        return (bits_t){0, 0};
    unsigned zeros = (unsigned)__builtin_ctzll(may_a) + (unsigned)__builtin_ctzll(may_b);
    if (zeros >= 64)
        return (bits_t){0, 0};
    return (bits_t){0, ~((1ull << zeros) - 1)};
}

/* ---- whole scalars ---- */

void scalar_unknown(scalar_t *scalar)
{
    *scalar = (scalar_t){0,          UINT64_MAX, INT64_MIN, INT64_MAX, 0,
                         UINT32_MAX, INT32_MIN,  INT32_MAX, 0,         UINT64_MAX};
}

void scalar_constant(scalar_t *scalar, uint64_t value)
{
    *scalar = (scalar_t){value,
                         value,
                         (int64_t)value,
                         (int64_t)value,
                         (uint32_t)value,
                         (uint32_t)value,
                         (int32_t)(uint32_t)value,
                         (int32_t)(uint32_t)value,
                         value,
                         0};
}

void scalar_unknown_of_size(scalar_t *scalar, unsigned bytes, bool sign_extend)
{
    scalar_unknown(scalar);
    if (bytes >= 8)
        return;
    unsigned bits = bytes * 8;
    if (sign_extend) {
        scalar->smin = -(1ll << (bits - 1));
        scalar->smax = (1ll << (bits - 1)) - 1;
    } else {
        scalar->umax = (1ull << bits) - 1;
        scalar->mask = scalar->umax;
    }
    scalar_sync(scalar);
}

bool scalar_is_constant(const scalar_t *scalar)
{
    return scalar->mask == 0;
}

bool scalar_is_constant_32(const scalar_t *scalar)
{
    return LOW32(scalar->mask) == 0;
}

bool scalar_is_unknown(const scalar_t *scalar)
{
    return scalar->mask == UINT64_MAX && scalar->umin == 0 && scalar->umax == UINT64_MAX &&
           scalar->smin == INT64_MIN && scalar->smax == INT64_MAX;
}

static uint64_t max_u(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static uint64_t min_u(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int64_t max_s(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min_s(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Signed bounds that known bits imply, at a width. */
static void signed_from_bits(uint64_t value, uint64_t mask, unsigned width, int64_t *min,
                             int64_t *max)
{
    uint64_t sign = width == 64 ? 1ull << 63 : 1ull << 31;
    /* Unknown sign: the least value sets it and clears the others; the greatest does the
     * opposite. Known sign: unknown bits at 0 give the least value, at 1 the greatest. */
    if (mask & sign) {
        *min = width_signed(value | sign, width);
        *max = width_signed((value | mask) & ~sign, width);
    } else {
        *min = width_signed(value, width);
        *max = width_signed(value | mask, width);
    }
}

/* One pass of tightening at one width: known bits, unsigned and signed bounds from each other. */
static void sync_width(view_t *view, unsigned width)
{
    int64_t smin, smax;

    view->umin = max_u(view->umin, view->value);
    view->umax = min_u(view->umax, view->value | view->mask);
    signed_from_bits(view->value, view->mask, width, &smin, &smax);
    view->smin = max_s(view->smin, smin);
    view->smax = min_s(view->smax, smax);
    /* An unsigned range on one side of the sign boundary is also a signed range. */
    if (width_signed(view->umin, width) <= width_signed(view->umax, width)) {
        view->smin = max_s(view->smin, width_signed(view->umin, width));
        view->smax = min_s(view->smax, width_signed(view->umax, width));
    }
    /* And a signed range of one sign is an unsigned range. */
    if (width_truncate((uint64_t)view->smin, width) <=
        width_truncate((uint64_t)view->smax, width)) {
        view->umin = max_u(view->umin, width_truncate((uint64_t)view->smin, width));
        view->umax = min_u(view->umax, width_truncate((uint64_t)view->smax, width));
    }
    if (view->umin <= view->umax) {
        bits_t range = bits_range(view->umin, view->umax);
        uint64_t conflict = (range.value ^ view->value) & ~range.mask & ~view->mask;
        if (conflict == 0) {
            uint64_t mask = view->mask & range.mask;
            view->value = (view->value | range.value) & ~mask;
            view->mask = mask;
        } else {
            view->umin = 1; /* empty */
            view->umax = 0;
        }
    }
}

/* The low 32 bits of a 64-bit range, when the range does not wrap them. */
static void low_from_wide(scalar_t *scalar, uint64_t min, uint64_t max)
{
    if (min > max)
        return;
    if ((min >> 32) == (max >> 32)) {
        scalar->u32min = (uint32_t)max_u(scalar->u32min, LOW32(min));
        scalar->u32max = (uint32_t)min_u(scalar->u32max, LOW32(max));
        if ((int32_t)(uint32_t)min <= (int32_t)(uint32_t)max) {
            scalar->s32min = (int32_t)max_s(scalar->s32min, (int32_t)(uint32_t)min);
            scalar->s32max = (int32_t)min_s(scalar->s32max, (int32_t)(uint32_t)max);
        }
    } else if ((min >> 32) + 1 == (max >> 32) && LOW32(min) > LOW32(max) &&
               (int32_t)(uint32_t)min < 0 && (int32_t)(uint32_t)max >= 0) {
        /* Crossing one 2^32 boundary through -1 -> 0 is contiguous as signed 32-bit. */
        scalar->s32min = (int32_t)max_s(scalar->s32min, (int32_t)(uint32_t)min);
        scalar->s32max = (int32_t)min_s(scalar->s32max, (int32_t)(uint32_t)max);
    }
}

bool scalar_sync(scalar_t *scalar)
{
    for (int pass = 0; pass < 4; pass++) {
        scalar_t before = *scalar;
        view_t wide = view_of(scalar, 64), narrow = view_of(scalar, 32);

        sync_width(&wide, 64);
        sync_width(&narrow, 32);
        if (wide.umin > wide.umax || wide.smin > wide.smax || narrow.umin > narrow.umax ||
            narrow.smin > narrow.smax)
            return false;
        view_store(scalar, &wide, 64);
        view_store(scalar, &narrow, 32);

        /* 64 -> 32. */
        low_from_wide(scalar, scalar->umin, scalar->umax);
        low_from_wide(scalar, (uint64_t)scalar->smin, (uint64_t)scalar->smax);
        if (scalar->u32min > scalar->u32max || scalar->s32min > scalar->s32max)
            return false;

        /* 32 -> 64: with the upper half fixed by the bounds, the lower half bounds the whole. */
        if ((scalar->umin >> 32) == (scalar->umax >> 32)) {
            uint64_t upper = scalar->umin & ~(uint64_t)UINT32_MAX;
            scalar->umin = max_u(scalar->umin, upper | scalar->u32min);
            scalar->umax = min_u(scalar->umax, upper | scalar->u32max);
        }
        if (scalar->smin >= INT32_MIN && scalar->smax <= INT32_MAX) {
            scalar->smin = max_s(scalar->smin, scalar->s32min);
            scalar->smax = min_s(scalar->smax, scalar->s32max);
        }
        if (scalar->umin > scalar->umax || scalar->smin > scalar->smax)
            return false;
        if (memcmp(&before, scalar, sizeof(before)) == 0)
            break;
    }
    return true;
}

void scalar_truncate(scalar_t *scalar, unsigned bytes, bool sign_extend)
{
    if (bytes >= 8)
        return;
    unsigned bits = bytes * 8;
    uint64_t low = (1ull << bits) - 1;
    if (!sign_extend) {
        if (scalar->umax <= low)
            return;
        scalar_t truncated;
        scalar_unknown_of_size(&truncated, bytes, false);
        truncated.value = scalar->value & low;
        truncated.mask = scalar->mask & low;
        scalar_sync(&truncated);
        *scalar = truncated;
        return;
    }
    int64_t half = 1ll << (bits - 1);
    if (scalar->smin >= -half && scalar->smax < half)
        return;
    scalar_t extended;
    scalar_unknown_of_size(&extended, bytes, true);
    uint64_t sign = 1ull << (bits - 1);
    if (!(scalar->mask & sign)) {
        /* A known sign bit: the extension is known too. */
        extended.value = (scalar->value & low) | ((scalar->value & sign) ? ~low : 0);
        extended.mask = scalar->mask & low;
    }
    scalar_sync(&extended);
    *scalar = extended;
}

/* ---- arithmetic ---- */

static uint64_t concrete_alu(uint8_t op, uint64_t a, uint64_t b, unsigned width, int16_t off)
{
    uint64_t shift_mask = width - 1;

    a = width_truncate(a, width);
    b = width_truncate(b, width);
    switch (op) {
    case BPF_ADD:
        return a + b;
    case BPF_SUB:
        return a - b;
    case BPF_MUL:
        return a * b;
    case BPF_DIV:
        if (off == 1) {
            if (b == 0)
                return 0;
            if (width_signed(b, width) == -1)
                return 0 - a;
            return (uint64_t)(width_signed(a, width) / width_signed(b, width));
        }
        return b ? a / b : 0;
    case BPF_MOD:
        if (off == 1) {
            if (b == 0)
                return a;
            if (width_signed(b, width) == -1)
                return 0;
            return (uint64_t)(width_signed(a, width) % width_signed(b, width));
        }
        return b ? a % b : a;
    case BPF_OR:
        return a | b;
    case BPF_AND:
        return a & b;
    case BPF_XOR:
        return a ^ b;
    case BPF_LSH:
        return a << (b & shift_mask);
    case BPF_RSH:
        return a >> (b & shift_mask);
    case BPF_ARSH:
        return (uint64_t)(width_signed(a, width) >> (b & shift_mask));
    case BPF_NEG:
        return 0 - a;
    case BPF_MOV:
        if (off == 8)
            return (uint64_t)(int64_t)(int8_t)b;
        if (off == 16)
            return (uint64_t)(int64_t)(int16_t)b;
        if (off == 32)
            return (uint64_t)(int64_t)(int32_t)b;
        return b;
    default:
        return 0;
    }
}

static void view_add(view_t *out, const view_t *a, const view_t *b, unsigned width)
{
    bits_t bits = bits_add((bits_t){a->value, a->mask}, (bits_t){b->value, b->mask});
    view_full(out, width);
    out->value = width_truncate(bits.value, width);
    out->mask = width_truncate(bits.mask, width);
    uint64_t umax;
    if (!__builtin_add_overflow(a->umax, b->umax, &umax) && umax <= width_umax(width)) {
        out->umin = a->umin + b->umin;
        out->umax = umax;
    }
    int64_t smin, smax;
    if (!__builtin_add_overflow(a->smin, b->smin, &smin) &&
        !__builtin_add_overflow(a->smax, b->smax, &smax) && smin >= width_smin(width) &&
        smax <= width_smax(width)) {
        out->smin = smin;
        out->smax = smax;
    }
}

static void view_sub(view_t *out, const view_t *a, const view_t *b, unsigned width)
{
    bits_t bits = bits_sub((bits_t){a->value, a->mask}, (bits_t){b->value, b->mask});
    view_full(out, width);
    out->value = width_truncate(bits.value, width);
    out->mask = width_truncate(bits.mask, width);
    if (a->umin >= b->umax) {
        out->umin = a->umin - b->umax;
        out->umax = a->umax - b->umin;
    }
    int64_t smin, smax;
    if (!__builtin_sub_overflow(a->smin, b->smax, &smin) &&
        !__builtin_sub_overflow(a->smax, b->smin, &smax) && smin >= width_smin(width) &&
        smax <= width_smax(width)) {
        out->smin = smin;
        out->smax = smax;
    }
}

static void view_mul(view_t *out, const view_t *a, const view_t *b, unsigned width)
{
    bits_t bits = bits_mul((bits_t){a->value, a->mask}, (bits_t){b->value, b->mask});
    view_full(out, width);
    out->value = width_truncate(bits.value, width);
    out->mask = width_truncate(bits.mask, width);
    uint64_t umax;
    if (!__builtin_mul_overflow(a->umax, b->umax, &umax) && umax <= width_umax(width)) {
        out->umin = a->umin * b->umin;
        out->umax = umax;
    }
    int64_t corners[4];
    bool overflow = __builtin_mul_overflow(a->smin, b->smin, &corners[0]) ||
                    __builtin_mul_overflow(a->smin, b->smax, &corners[1]) ||
                    __builtin_mul_overflow(a->smax, b->smin, &corners[2]) ||
                    __builtin_mul_overflow(a->smax, b->smax, &corners[3]);
    if (!overflow) {
        int64_t smin = corners[0], smax = corners[0];
        for (int i = 1; i < 4; i++) {
            smin = min_s(smin, corners[i]);
            smax = max_s(smax, corners[i]);
        }
        if (smin >= width_smin(width) && smax <= width_smax(width)) {
            out->smin = smin;
            out->smax = smax;
        }
    }
}

static void view_bitwise(view_t *out, const view_t *a, const view_t *b, uint8_t op, unsigned width)
{
    bits_t x = {a->value, a->mask}, y = {b->value, b->mask}, bits;

    view_full(out, width);
    if (op == BPF_AND)
        bits = bits_and(x, y);
    else if (op == BPF_OR)
        bits = bits_or(x, y);
    else
        bits = bits_xor(x, y);
    out->value = bits.value;
    out->mask = bits.mask;
    if (op == BPF_AND) {
        out->umax = min_u(a->umax, b->umax);
        /* Anding with a non-negative value gives a value between 0 and it. */
        if (a->smin >= 0 || b->smin >= 0) {
            out->smin = 0;
            out->smax = a->smin >= 0 ? a->smax : b->smax;
            if (a->smin >= 0 && b->smin >= 0)
                out->smax = min_s(a->smax, b->smax);
        }
    } else if (op == BPF_OR) {
        out->umin = max_u(a->umin, b->umin);
    }
}

static void view_shift(view_t *out, const view_t *a, const view_t *b, uint8_t op, unsigned width)
{
    view_full(out, width);
    if (b->mask != 0) {
        /* A right shift by any amount never grows the value. */
        if (op == BPF_RSH)
            out->umax = a->umax;
        return;
    }
    unsigned shift = (unsigned)(b->value & (width - 1));
    if (op == BPF_LSH) {
        out->value = width_truncate(a->value << shift, width);
        out->mask = width_truncate(a->mask << shift, width);
        if (shift == 0 || (a->umax >> (width - shift)) == 0) {
            out->umin = a->umin << shift;
            out->umax = a->umax << shift;
        }
    } else if (op == BPF_RSH) {
        out->value = a->value >> shift;
        out->mask = a->mask >> shift;
        out->umin = a->umin >> shift;
        out->umax = a->umax >> shift;
    } else {
        out->value = width_truncate((uint64_t)(width_signed(a->value, width) >> shift), width);
        out->mask = width_truncate((uint64_t)(width_signed(a->mask, width) >> shift), width);
        out->smin = a->smin >> shift;
        out->smax = a->smax >> shift;
    }
}

static void view_divide(view_t *out, const view_t *a, const view_t *b, uint8_t op, unsigned width,
                        bool is_signed)
{
    view_full(out, width);
    if (is_signed) {
        if (op == BPF_MOD && b->mask == 0 && b->value != 0) {
            int64_t divisor = width_signed(b->value, width);
            if (divisor == width_smin(width))
                return;
            int64_t limit = (divisor < 0 ? -divisor : divisor) - 1;
            /* The remainder has the dividend's sign and is smaller than the divisor. */
            out->smin = a->smin >= 0 ? 0 : -limit;
            out->smax = a->smax <= 0 ? 0 : limit;
            if (a->smin >= 0)
                out->smax = min_s(out->smax, a->smax);
        }
        return;
    }
    if (op == BPF_DIV) {
        if (b->umin > 0) {
            out->umin = a->umin / b->umax;
            out->umax = a->umax / b->umin;
        } else {
            /* Division by zero gives zero; by anything else no more than the dividend. */
            out->umax = a->umax;
        }
        return;
    }
    /* Modulo: by zero leaves the dividend; by a larger divisor too. */
    if (b->umin > 0 && a->umax < b->umin) {
        *out = *a;
        return;
    }
    out->umax = b->umin > 0 ? min_u(a->umax, b->umax - 1) : a->umax;
}

/* Sign-extends the low `bits` bits of a (MOVSX). */
static void view_sign_extend(view_t *out, const view_t *a, unsigned bits, unsigned width)
{
    uint64_t low = (1ull << bits) - 1, sign = 1ull << (bits - 1);
    int64_t half = (int64_t)sign;

    view_full(out, width);
    if (a->smin >= -half && a->smax < half) {
        /* Already a sign-extended value: unchanged. */
        *out = *a;
        return;
    }
    if (!(a->mask & sign)) {
        uint64_t upper = (a->value & sign) ? ~low : 0;
        out->value = width_truncate((a->value & low) | upper, width);
        out->mask = a->mask & low;
    } else {
        out->value = a->value & low & ~sign;
        out->mask = width_truncate((a->mask & low) | ~low, width);
    }
    out->smin = -half;
    out->smax = half - 1;
}

static void view_alu(view_t *out, const view_t *a, const view_t *b, uint8_t op, unsigned width,
                     int16_t off)
{
    bool sign_extend = op == BPF_MOV && (off == 8 || off == 16 || off == 32);

    if (b->mask == 0 && (a->mask == 0 || op == BPF_MOV)) {
        view_constant(out, concrete_alu(op, a->value, b->value, width, off), width);
        return;
    }
    switch (op) {
    case BPF_ADD:
        view_add(out, a, b, width);
        break;
    case BPF_SUB:
        view_sub(out, a, b, width);
        break;
    case BPF_NEG: {
        view_t zero;
        view_constant(&zero, 0, width);
        view_sub(out, &zero, a, width);
        break;
    }
    case BPF_MUL:
        view_mul(out, a, b, width);
        break;
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR:
        view_bitwise(out, a, b, op, width);
        break;
    case BPF_LSH:
    case BPF_RSH:
    case BPF_ARSH:
        view_shift(out, a, b, op, width);
        break;
    case BPF_DIV:
    case BPF_MOD:
        view_divide(out, a, b, op, width, off == 1);
        break;
    case BPF_MOV:
        if (sign_extend)
            view_sign_extend(out, b, (unsigned)off, width);
        else
            *out = *b;
        break;
    default:
        view_full(out, width);
        break;
    }
}

void scalar_alu(scalar_t *dst, const scalar_t *src, uint8_t op, bool alu64, int16_t off)
{
    scalar_t result;

    if (op == BPF_NEG)
        src = dst;
    if (alu64) {
        view_t a = view_of(dst, 64), b = view_of(src, 64), wide, narrow;
        view_alu(&wide, &a, &b, op, 64, off);
        /* The low half of these results depends only on the low halves of the inputs. */
        bool low_only = op == BPF_ADD || op == BPF_SUB || op == BPF_MUL || op == BPF_AND ||
                        op == BPF_OR || op == BPF_XOR || op == BPF_NEG ||
                        (op == BPF_MOV && off == 0);
        if (op == BPF_LSH && src->mask == 0) {
            if ((src->value & 63) >= 32)
                view_constant(&narrow, 0, 32);
            else
                low_only = true;
        } else {
            view_full(&narrow, 32);
        }
        if (low_only) {
            view_t a32 = view_of(dst, 32), b32 = view_of(src, 32);
            view_alu(&narrow, &a32, &b32, op, 32, off);
        }
        scalar_unknown(&result);
        view_store(&result, &wide, 64);
        view_t narrow_bits = narrow;
        narrow_bits.value = LOW32(wide.value);
        narrow_bits.mask = LOW32(wide.mask);
        view_store(&result, &narrow_bits, 32);
        result.u32min = (uint32_t)narrow.umin;
        result.u32max = (uint32_t)narrow.umax;
        result.s32min = (int32_t)narrow.smin;
        result.s32max = (int32_t)narrow.smax;
        if (!scalar_sync(&result))
            scalar_unknown(&result);
        *dst = result;
        return;
    }

    view_t a = view_of(dst, 32), b = view_of(src, 32), narrow;
    view_alu(&narrow, &a, &b, op, 32, off);
    /* A 32-bit result is zero-extended into the register. */
    scalar_unknown(&result);
    result.umin = narrow.umin;
    result.umax = narrow.umax;
    result.smin = 0;
    result.smax = (int64_t)UINT32_MAX;
    result.value = LOW32(narrow.value);
    result.mask = LOW32(narrow.mask);
    result.u32min = (uint32_t)narrow.umin;
    result.u32max = (uint32_t)narrow.umax;
    result.s32min = (int32_t)narrow.smin;
    result.s32max = (int32_t)narrow.smax;
    if (!scalar_sync(&result)) {
        scalar_unknown_of_size(&result, 4, false);
    }
    *dst = result;
}

/* ---- comparisons ---- */

static uint16_t negate_condition(uint16_t op)
{
    switch (op) {
    case BPF_JEQ:
        return BPF_JNE;
    case BPF_JNE:
        return BPF_JEQ;
    case BPF_JGT:
        return BPF_JLE;
    case BPF_JLE:
        return BPF_JGT;
    case BPF_JGE:
        return BPF_JLT;
    case BPF_JLT:
        return BPF_JGE;
    case BPF_JSGT:
        return BPF_JSLE;
    case BPF_JSLE:
        return BPF_JSGT;
    case BPF_JSGE:
        return BPF_JSLT;
    case BPF_JSLT:
        return BPF_JSGE;
    case BPF_JSET:
        return OP_NSET;
    default:
        return BPF_JSET;
    }
}

static branch_outcome_t outcome_of(bool always, bool never)
{
    return always ? BRANCH_ALWAYS : never ? BRANCH_NEVER : BRANCH_UNKNOWN;
}

static branch_outcome_t view_outcome(const view_t *a, const view_t *b, uint16_t op)
{
    switch (op) {
    case BPF_JEQ:
    case BPF_JNE: {
        bool equal = a->mask == 0 && b->mask == 0 && a->value == b->value;
        bool disjoint = a->umax < b->umin || a->umin > b->umax || a->smax < b->smin ||
                        a->smin > b->smax || ((a->value ^ b->value) & ~(a->mask | b->mask)) != 0;
        return op == BPF_JEQ ? outcome_of(equal, disjoint) : outcome_of(disjoint, equal);
    }
    case BPF_JGT:
        return outcome_of(a->umin > b->umax, a->umax <= b->umin);
    case BPF_JGE:
        return outcome_of(a->umin >= b->umax, a->umax < b->umin);
    case BPF_JLT:
        return outcome_of(a->umax < b->umin, a->umin >= b->umax);
    case BPF_JLE:
        return outcome_of(a->umax <= b->umin, a->umin > b->umax);
    case BPF_JSGT:
        return outcome_of(a->smin > b->smax, a->smax <= b->smin);
    case BPF_JSGE:
        return outcome_of(a->smin >= b->smax, a->smax < b->smin);
    case BPF_JSLT:
        return outcome_of(a->smax < b->smin, a->smin >= b->smax);
    case BPF_JSLE:
        return outcome_of(a->smax <= b->smin, a->smin > b->smax);
    case BPF_JSET:
        return outcome_of((a->value & b->value) != 0,
                          ((a->value | a->mask) & (b->value | b->mask)) == 0);
    case OP_NSET:
        return outcome_of(((a->value | a->mask) & (b->value | b->mask)) == 0,
                          (a->value & b->value) != 0);
    default:
        return BRANCH_UNKNOWN;
    }
}

branch_outcome_t scalar_branch_outcome(const scalar_t *a, const scalar_t *b, uint8_t op,
                                       bool is_jmp32)
{
    unsigned width = is_jmp32 ? 32 : 64;
    view_t x = view_of(a, width), y = view_of(b, width);
    return view_outcome(&x, &y, op);
}

/* Removes value from the ends of a range (x != value). */
static bool exclude_value(view_t *x, uint64_t value, unsigned width)
{
    int64_t signed_value = width_signed(value, width);

    if (x->umin == value && x->umax == value)
        return false;
    if (x->umin == value)
        x->umin++;
    else if (x->umax == value)
        x->umax--;
    if (x->smin == signed_value)
        x->smin++;
    else if (x->smax == signed_value)
        x->smax--;
    return true;
}

/* Narrows x and y to where `x op y` holds. */
static bool view_refine(view_t *x, view_t *y, uint16_t op, unsigned width)
{
    switch (op) {
    case BPF_JEQ: {
        uint64_t conflict = (x->value ^ y->value) & ~x->mask & ~y->mask;
        if (conflict)
            return false;
        view_t both = {max_u(x->umin, y->umin),
                       min_u(x->umax, y->umax),
                       max_s(x->smin, y->smin),
                       min_s(x->smax, y->smax),
                       0,
                       x->mask & y->mask};
        both.value = (x->value | y->value) & ~both.mask;
        *x = both;
        *y = both;
        return both.umin <= both.umax && both.smin <= both.smax;
    }
    case BPF_JNE:
        if (y->mask == 0)
            return exclude_value(x, y->value, width);
        if (x->mask == 0)
            return exclude_value(y, x->value, width);
        return true;
    case BPF_JGT:
    case BPF_JGE: {
        uint64_t strict = op == BPF_JGT;
        if (strict && (y->umin == width_umax(width) || x->umax == 0))
            return false;
        x->umin = max_u(x->umin, y->umin + strict);
        y->umax = min_u(y->umax, x->umax - strict);
        return x->umin <= x->umax && y->umin <= y->umax;
    }
    case BPF_JLT:
        return view_refine(y, x, BPF_JGT, width);
    case BPF_JLE:
        return view_refine(y, x, BPF_JGE, width);
    case BPF_JSGT:
    case BPF_JSGE: {
        int64_t strict = op == BPF_JSGT;
        if (strict && (y->smin == width_smax(width) || x->smax == width_smin(width)))
            return false;
        x->smin = max_s(x->smin, y->smin + strict);
        y->smax = min_s(y->smax, x->smax - strict);
        return x->smin <= x->smax && y->smin <= y->smax;
    }
    case BPF_JSLT:
        return view_refine(y, x, BPF_JSGT, width);
    case BPF_JSLE:
        return view_refine(y, x, BPF_JSGE, width);
    case BPF_JSET:
        if (y->mask == 0 && y->value != 0 && (y->value & (y->value - 1)) == 0) {
            if (!(x->mask & y->value) && !(x->value & y->value))
                return false;
            x->value |= y->value;
            x->mask &= ~y->value;
        }
        return true;
    case OP_NSET:
        if (y->mask == 0) {
            if (x->value & y->value)
                return false;
            x->mask &= ~y->value;
        }
        return true;
    default:
        return true;
    }
}

bool scalar_refine(scalar_t *a, scalar_t *b, uint8_t op, bool is_jmp32, bool taken)
{
    unsigned width = is_jmp32 ? 32 : 64;
    uint16_t condition = taken ? op : negate_condition(op);
    view_t x = view_of(a, width), y = view_of(b, width);

    if (view_outcome(&x, &y, condition) == BRANCH_NEVER)
        return false;
    if (!view_refine(&x, &y, condition, width))
        return false;
    view_store(a, &x, width);
    view_store(b, &y, width);
    return scalar_sync(a) && scalar_sync(b);
}

/* The box is the exact set of values deciding the comparison the same way where that set is an
 * interval; for "!=" and JSET it is the side of k, or the known bit, that the values share. */
bool scalar_decision_bound(const scalar_t *a, uint64_t k, uint8_t op, bool is_jmp32, bool taken,
                           scalar_t *bound)
{
    unsigned width = is_jmp32 ? 32 : 64;
    uint16_t condition = taken ? op : negate_condition(op);
    view_t x = view_of(a, width), b;
    uint64_t uk = width_truncate(k, width), bit;
    int64_t sk = width_signed(k, width);

    view_full(&b, width);
    switch (condition) {
    case BPF_JEQ:
        b.umin = b.umax = uk;
        b.smin = b.smax = sk;
        break;
    case BPF_JNE:
        if (x.umax < uk) {
            b.umax = uk - 1;
        } else if (x.umin > uk) {
            b.umin = uk + 1;
        } else if (x.smax < sk) {
            b.smax = sk - 1;
        } else if (x.smin > sk) {
            b.smin = sk + 1;
        } else {
            /* k lies inside the range: some known bit tells them apart. */
            uint64_t differing = (x.value ^ uk) & ~x.mask;
            if (differing == 0)
                return false;
            bit = differing & -differing;
            b.mask &= ~bit;
            b.value = x.value & bit;
        }
        break;
    case BPF_JGT:
        if (uk == width_umax(width))
            return false;
        b.umin = uk + 1;
        break;
    case BPF_JGE:
        b.umin = uk;
        break;
    case BPF_JLT:
        if (uk == 0)
            return false;
        b.umax = uk - 1;
        break;
    case BPF_JLE:
        b.umax = uk;
        break;
    case BPF_JSGT:
        if (sk == width_smax(width))
            return false;
        b.smin = sk + 1;
        break;
    case BPF_JSGE:
        b.smin = sk;
        break;
    case BPF_JSLT:
        if (sk == width_smin(width))
            return false;
        b.smax = sk - 1;
        break;
    case BPF_JSLE:
        b.smax = sk;
        break;
    case BPF_JSET: {
        uint64_t known = x.value & ~x.mask & uk;
        if (known == 0)
            return false;
        bit = known & -known;
        b.mask &= ~bit;
        b.value = bit;
        break;
    }
    case OP_NSET:
        b.mask &= ~uk;
        break;
    default:
        return false;
    }
    scalar_unknown(bound);
    view_store(bound, &b, width);
    /* The values that took the branch must be inside, or the decision was not what we think. */
    return scalar_included(bound, a);
}

bool scalar_included(const scalar_t *outer, const scalar_t *inner)
{
    return outer->umin <= inner->umin && inner->umax <= outer->umax && outer->smin <= inner->smin &&
           inner->smax <= outer->smax && outer->u32min <= inner->u32min &&
           inner->u32max <= outer->u32max && outer->s32min <= inner->s32min &&
           inner->s32max <= outer->s32max && (inner->mask & ~outer->mask) == 0 &&
           (inner->value & ~outer->mask) == outer->value;
}

bool scalar_equal(const scalar_t *a, const scalar_t *b)
{
    return a->umin == b->umin && a->umax == b->umax && a->smin == b->smin && a->smax == b->smax &&
           a->u32min == b->u32min && a->u32max == b->u32max && a->s32min == b->s32min &&
           a->s32max == b->s32max && a->value == b->value && a->mask == b->mask;
}

int scalar_describe(const scalar_t *scalar, char *text, size_t size)
{
    if (scalar_is_constant(scalar)) {
        if (scalar->smin >= -4096 && scalar->smin <= 4096)
            return snprintf(text, size, "%" PRId64, scalar->smin);
        return snprintf(text, size, "%#" PRIx64, scalar->value);
    }
    if (scalar_is_unknown(scalar) && scalar->u32min == 0 && scalar->u32max == UINT32_MAX)
        return snprintf(text, size, "unknown");
    if ((uint64_t)scalar->smin == scalar->umin && (uint64_t)scalar->smax == scalar->umax)
        return snprintf(text, size, "[%" PRIu64 ", %" PRIu64 "]", scalar->umin, scalar->umax);
    if (scalar->smin == INT64_MIN && scalar->smax == INT64_MAX)
        return snprintf(text, size, "u[%" PRIu64 ", %" PRIu64 "]", scalar->umin, scalar->umax);
    return snprintf(text, size, "s[%" PRId64 ", %" PRId64 "] u[%" PRIu64 ", %#" PRIx64 "]",
                    scalar->smin, scalar->smax, scalar->umin, scalar->umax);
}
