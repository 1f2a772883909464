/* The verifier's driver: explores every path with state pruning, and reports the result. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

/* A finished checkpoint that keeps failing to prune is dropped once its misses outnumber its
 * hits by this much (and four misses per hit), so lists at loop exits stay short. */
#define EVICTION_MISSES 16
/* Instructions a path runs before it remembers its state at a prune point again. */
#define CHECKPOINT_DISTANCE 8
/* States remembered at one instruction (the kernel's BPF_COMPLEXITY_LIMIT_STATES), and the
 * unfinished ones kept at a loop head for the check for endless loops. */
#define MAX_STATES_PER_INSTRUCTION 64
#define MAX_LOOP_STATES            64
/* The verbose log shows at most this many instructions of the failing path (its end). */
#define VERBOSE_PATH_LIMIT 2000

int verifier_reject(verifier_t *verifier, uint32_t pc, const char *fmt, ...)
{
    va_list ap;

    if (verifier->failed)
        return verifier->error ? verifier->error : -EACCES;
    verifier->failed = true;
    verifier->error = -EACCES;
    verifier->error_pc = pc;
    va_start(ap, fmt);
    vsnprintf(verifier->reason, sizeof(verifier->reason), fmt, ap);
    va_end(ap);
    return -EACCES;
}

int verifier_out_of_memory(verifier_t *verifier)
{
    if (!verifier->failed) {
        verifier->failed = true;
        verifier->error = -ENOMEM;
        snprintf(verifier->reason, sizeof(verifier->reason), "out of memory");
    }
    return -ENOMEM;
}

/* ---- checkpoints ---- */

static void checkpoint_unlink_alive(verifier_t *verifier, checkpoint_t *checkpoint)
{
    if (checkpoint->previous_alive)
        checkpoint->previous_alive->next_alive = checkpoint->next_alive;
    else
        verifier->alive = checkpoint->next_alive;
    if (checkpoint->next_alive)
        checkpoint->next_alive->previous_alive = checkpoint->previous_alive;
}

/* Drops the state copy of a checkpoint; the checkpoint itself may still count paths. */
static void forget_state(verifier_t *verifier, checkpoint_t *checkpoint)
{
    if (!checkpoint->state)
        return;
    state_free(checkpoint->state);
    checkpoint->state = NULL;
    checkpoint_free_bounds(checkpoint);
    verifier->state_counts[checkpoint->pc]--;
}

static void checkpoint_free(verifier_t *verifier, checkpoint_t *checkpoint)
{
    checkpoint_unlink_alive(verifier, checkpoint);
    forget_state(verifier, checkpoint);
    ebpf_free(checkpoint);
}

static void unlink_finished(verifier_t *verifier, checkpoint_t *checkpoint)
{
    if (checkpoint->previous_at_instruction)
        checkpoint->previous_at_instruction->next_at_instruction = checkpoint->next_at_instruction;
    else
        verifier->checkpoints[checkpoint->pc] = checkpoint->next_at_instruction;
    if (checkpoint->next_at_instruction)
        checkpoint->next_at_instruction->previous_at_instruction =
            checkpoint->previous_at_instruction;
}

static void leave_loop_head(verifier_t *verifier, checkpoint_t *checkpoint)
{
    if (checkpoint->loop_index == UINT32_MAX)
        return;
    loop_head_t *loop = &verifier->loop_heads[checkpoint->pc];
    loop_entry_t *last = &loop->entries[--loop->count];
    loop->entries[checkpoint->loop_index] = *last;
    last->checkpoint->loop_index = checkpoint->loop_index;
    checkpoint->loop_index = UINT32_MAX;
}

/* Everything reachable from the checkpoint was proven safe: it may prune from now on (or,
 * when its state was forgotten, it is done). */
static void finish_checkpoint(verifier_t *verifier, checkpoint_t *checkpoint)
{
    leave_loop_head(verifier, checkpoint);
    if (!checkpoint->state) {
        checkpoint_free(verifier, checkpoint);
        return;
    }
    checkpoint->previous_at_instruction = NULL;
    checkpoint->next_at_instruction = verifier->checkpoints[checkpoint->pc];
    if (checkpoint->next_at_instruction)
        checkpoint->next_at_instruction->previous_at_instruction = checkpoint;
    verifier->checkpoints[checkpoint->pc] = checkpoint;
}

/* A path ends (exit, pruned): what it held below its checkpoints is done. */
static void end_path(verifier_t *verifier)
{
    checkpoint_t *checkpoint = verifier->current_checkpoint;
    while (checkpoint && --checkpoint->pending == 0) {
        checkpoint_t *parent = checkpoint->parent;
        finish_checkpoint(verifier, checkpoint);
        checkpoint = parent;
    }
    verifier->current_checkpoint = NULL;
}

enum { CONTINUE = 0, PRUNED = 1 };

/* Keeps the unfinished states of a loop head for the check for endless loops: the newest
 * ones, the oldest forgotten once there are too many (a long loop cannot fill memory). */
static int remember_loop_state(verifier_t *verifier, checkpoint_t *checkpoint)
{
    loop_head_t *loop = &verifier->loop_heads[checkpoint->pc];
    if (loop->count == MAX_LOOP_STATES) {
        uint32_t oldest = loop->next_forgotten++ % MAX_LOOP_STATES;
        checkpoint_t *forgotten = loop->entries[oldest].checkpoint;
        forgotten->loop_index = UINT32_MAX;
        forget_state(verifier, forgotten);
        checkpoint->loop_index = oldest;
        loop->entries[oldest] = (loop_entry_t){checkpoint->hash, checkpoint};
        return 0;
    }
    if (loop->count == loop->capacity) {
        uint32_t capacity = loop->capacity ? loop->capacity * 2 : 16;
        loop_entry_t *grown = ebpf_reallocate(loop->entries, capacity * sizeof(*loop->entries));
        if (!grown)
            return verifier_out_of_memory(verifier);
        loop->entries = grown;
        loop->capacity = capacity;
    }
    checkpoint->loop_index = loop->count;
    loop->entries[loop->count++] = (loop_entry_t){checkpoint->hash, checkpoint};
    return 0;
}

/* At a prune point: ends the path when a finished state covers it, rejects a state that
 * repeats one of its own ancestors (the loop cannot end), or remembers the state. */
static int visit_prune_point(verifier_t *verifier, uint32_t pc)
{
    state_t *current = verifier->current;
    bool loop_head = verifier->insn_flags[pc] & INSN_LOOP_HEAD;
    uint64_t hash = 0;

    state_drop_lonely_ids(verifier, current, pc);
    if (loop_head) {
        /* Unfinished checkpoints here are ancestors of this path. */
        const loop_head_t *loop = &verifier->loop_heads[pc];
        hash = state_hash(verifier, current, pc);
        for (uint32_t i = 0; i < loop->count; i++) {
            if (loop->entries[i].hash == hash &&
                state_included(verifier, loop->entries[i].checkpoint, current, pc, true))
                return verifier_reject(verifier, pc,
                                       "infinite loop: the program comes back here in a state "
                                       "it was already in, so the loop may never end");
        }
    }
    for (checkpoint_t *checkpoint = verifier->checkpoints[pc], *next; checkpoint;
         checkpoint = next) {
        next = checkpoint->next_at_instruction;
        if (state_included(verifier, checkpoint, current, pc, false)) {
            checkpoint->hits++;
            verifier_propagate_precision(verifier, current, checkpoint);
            /* The paths below the checkpoint read these slots: this path relies on them too. */
            for (uint32_t f = 0; f < checkpoint->state->frame_count; f++)
                verifier_note_slots_read(verifier, f, checkpoint->slots_read[f]);
            end_path(verifier);
            return PRUNED;
        }
        if (++checkpoint->misses > EVICTION_MISSES + 4 * checkpoint->hits) {
            unlink_finished(verifier, checkpoint);
            checkpoint_free(verifier, checkpoint);
        }
    }

    /* Remembering a state costs a copy: do it once the path has gone some way since the last
     * one, and keep a bounded number per instruction. */
    if (verifier->current_checkpoint && verifier->since_checkpoint < CHECKPOINT_DISTANCE)
        return CONTINUE;
    if (!loop_head && verifier->state_counts[pc] >= MAX_STATES_PER_INSTRUCTION)
        return CONTINUE;
    checkpoint_t *checkpoint = ebpf_allocate(sizeof(*checkpoint));
    if (!checkpoint)
        return verifier_out_of_memory(verifier);
    checkpoint->state = state_copy_compact(verifier, current);
    if (!checkpoint->state) {
        ebpf_free(checkpoint);
        return -ENOMEM;
    }
    state_clear_precision(checkpoint->state);
    verifier->state_counts[pc]++;
    verifier->since_checkpoint = 0;
    checkpoint->history = verifier->history_count;
    checkpoint->pc = pc;
    checkpoint->hash = hash;
    checkpoint->loop_index = UINT32_MAX;
    checkpoint->parent = verifier->current_checkpoint;
    memcpy(checkpoint->slots_written, verifier->slots_written, sizeof(verifier->slots_written));
    memset(verifier->slots_written, 0, sizeof(verifier->slots_written));
    checkpoint->pending = 1;
    checkpoint->next_alive = verifier->alive;
    if (verifier->alive)
        verifier->alive->previous_alive = checkpoint;
    verifier->alive = checkpoint;
    verifier->current_checkpoint = checkpoint;
    if (loop_head)
        return remember_loop_state(verifier, checkpoint);
    return CONTINUE;
}

/* ---- paths ---- */

static int push_pending(verifier_t *verifier, state_t *state, uint32_t pc)
{
    if (verifier->pending_count == verifier->pending_capacity) {
        uint32_t capacity = verifier->pending_capacity ? verifier->pending_capacity * 2 : 32;
        pending_path_t *grown =
            ebpf_reallocate(verifier->pending, capacity * sizeof(*verifier->pending));
        if (!grown) {
            state_free(state);
            return verifier_out_of_memory(verifier);
        }
        verifier->pending = grown;
        verifier->pending_capacity = capacity;
    }
    if (verifier->current_checkpoint)
        verifier->current_checkpoint->pending++;
    pending_path_t *pending = &verifier->pending[verifier->pending_count++];
    *pending = (pending_path_t){
        .state = state,
        .pc = pc,
        .checkpoint = verifier->current_checkpoint,
        .history = verifier->current_history,
        .since_checkpoint = verifier->since_checkpoint,
    };
    memcpy(pending->slots_written, verifier->slots_written, sizeof(verifier->slots_written));
    return 0;
}

static int record_history(verifier_t *verifier, uint32_t pc)
{
    if (verifier->history_count == verifier->history_capacity) {
        uint32_t capacity = verifier->history_capacity ? verifier->history_capacity * 2 : 1024;
        history_node_t *grown =
            ebpf_reallocate(verifier->history, capacity * sizeof(*verifier->history));
        if (!grown)
            return verifier_out_of_memory(verifier);
        verifier->history = grown;
        verifier->history_capacity = capacity;
    }
    verifier->history[verifier->history_count] = (history_node_t){
        .pc = pc,
        .parent = verifier->current_history,
        .frame = (uint8_t)(verifier->current->frame_count - 1),
        .stack_slot = -1,
    };
    verifier->current_history = verifier->history_count++;
    return 0;
}

static void initial_state(verifier_t *verifier, state_t *state)
{
    frame_t *frame = state->frames[0];

    state->frame_count = 1;
    state->reference_count = 0;
    for (int r = 0; r < VERIFIER_REGISTER_COUNT; r++)
        reg_mark_not_init(&frame->regs[r], UNINIT_NEVER_WRITTEN);
    frame->regs[BPF_REG_1].type = REG_CTX;
    scalar_constant(&frame->regs[BPF_REG_1].value, 0);
    frame->regs[BPF_REG_10].type = REG_STACK;
    scalar_constant(&frame->regs[BPF_REG_10].value, 0);
    frame->callsite = UINT32_MAX;
    frame->function = 0;
    frame->slot_count = 0;
}

static int explore(verifier_t *verifier)
{
    state_t *state = verifier->current;
    step_result_t step;
    uint32_t pc = 0;
    int err;

    initial_state(verifier, state);
    verifier->current_history = UINT32_MAX;
    for (;;) {
        for (;;) {
            verifier->pc = pc;
            if (verifier->insn_flags[pc] & INSN_PRUNE_POINT) {
                err = visit_prune_point(verifier, pc);
                if (err < 0)
                    return err;
                if (err == PRUNED)
                    break;
            }
            verifier->since_checkpoint++;
            if (++verifier->processed > verifier->budget)
                return verifier_reject(verifier, pc,
                                       "exceeded the instruction budget of %" PRIu64
                                       " processed instructions: a loop may not terminate, or "
                                       "the program has too many paths",
                                       verifier->budget);
            if ((err = record_history(verifier, pc)) != 0)
                return err;
            if ((err = verifier_step(verifier, state, pc, &step)) != 0)
                return err;
            if (step.branch && (err = push_pending(verifier, step.branch, step.branch_pc)) != 0)
                return err;
            if (step.path_done) {
                end_path(verifier);
                break;
            }
            pc = step.next_pc;
        }
        if (verifier->pending_count == 0)
            return 0;
        pending_path_t next = verifier->pending[--verifier->pending_count];
        state_copy_into(state, next.state);
        state_free(next.state);
        pc = next.pc;
        verifier->current_checkpoint = next.checkpoint;
        verifier->current_history = next.history;
        verifier->since_checkpoint = next.since_checkpoint;
        memcpy(verifier->slots_written, next.slots_written, sizeof(verifier->slots_written));
    }
}

/* ---- the report ---- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Where instruction pc comes from: its own line information, or the closest before it in the
 * same function (clang marks only the first instruction of a line). */
static void append_source(const verifier_t *verifier, log_buffer_t *log, uint32_t pc)
{
    const ebpf_verifier_line_info_t *lines = verifier->options->line_info;
    if (!lines || pc >= verifier->count)
        return;
    uint32_t start = verifier->functions ? verifier->functions[verifier->function_of[pc]].start : 0;
    for (uint32_t i = pc + 1; i-- > start;) {
        const ebpf_verifier_line_info_t *line = &lines[i];
        if (!line->file_name || line->line == 0)
            continue;
        const char *text = line->line_text ? line->line_text : "";
        while (*text == ' ' || *text == '\t')
            text++;
        if (*text)
            log_append(log, " (%s:%u: %s)", base_name(line->file_name), line->line, text);
        else
            log_append(log, " (%s:%u)", base_name(line->file_name), line->line);
        return;
    }
}

/* Runs the failing path again from the start, printing the state before each instruction. */
static void replay_failing_path(verifier_t *verifier, log_buffer_t *log)
{
    uint32_t length = 0, node = verifier->current_history;
    while (node != UINT32_MAX) {
        length++;
        node = verifier->history[node].parent;
    }
    if (length == 0)
        return;
    uint32_t *path = ebpf_allocate_array(length, sizeof(*path));
    char *line = ebpf_allocate(4096);
    if (!path || !line) {
        ebpf_free(path);
        ebpf_free(line);
        return;
    }
    node = verifier->current_history;
    for (uint32_t i = length; i-- > 0;) {
        path[i] = verifier->history[node].pc;
        node = verifier->history[node].parent;
    }

    state_t *state = verifier->current;
    verifier->replaying = true;
    initial_state(verifier, state);
    log_append(log, "\nthe path to the error (state before each instruction):\n");
    if (length > VERBOSE_PATH_LIMIT)
        log_append(log, "  ... %u earlier instructions ...\n", length - VERBOSE_PATH_LIMIT);
    for (uint32_t i = 0; i < length; i++) {
        uint32_t pc = path[i];
        step_result_t step;
        if (i + VERBOSE_PATH_LIMIT >= length) {
            char assembly[128];
            verifier_disassemble(verifier, pc, assembly, sizeof(assembly));
            state_describe(verifier, state, line, 4096);
            log_append(log, "  %u: %-36s ;%s\n", pc, assembly, line);
        }
        if (verifier_step(verifier, state, pc, &step) != 0)
            break;
        if (step.path_done)
            break;
        uint32_t next = i + 1 < length ? path[i + 1] : UINT32_MAX;
        if (step.branch) {
            if (next == step.branch_pc && next != step.next_pc)
                state_copy_into(state, step.branch);
            state_free(step.branch);
        }
    }
    ebpf_free(path);
    ebpf_free(line);
}

static char *build_log(verifier_t *verifier)
{
    log_buffer_t log = {0};
    char assembly[128];

    if (verifier->error_pc < verifier->count) {
        verifier_disassemble(verifier, verifier->error_pc, assembly, sizeof(assembly));
        log_append(&log, "instruction %u: %s", verifier->error_pc, assembly);
        append_source(verifier, &log, verifier->error_pc);
        log_append(&log, "\n");
    }
    log_append(&log, "%s\n", verifier->reason);
    if (verifier->verbose && verifier->history && verifier->functions)
        replay_failing_path(verifier, &log);
    if (log.failed) {
        ebpf_free(log.text);
        return NULL;
    }
    return log.text;
}

/* Deepest stack over every chain of calls, each frame rounded up to 8 bytes. */
static uint32_t stack_depth_from(const verifier_t *verifier, uint32_t function, uint32_t level)
{
    const function_info_t *info = &verifier->functions[function];
    uint32_t deepest = 0;

    if (level >= VERIFIER_MAX_FRAMES)
        return 0;
    for (uint32_t pc = info->start; pc < info->end; pc++) {
        const struct bpf_insn *insn = &verifier->insns[pc];
        if (insn->code != (BPF_JMP | BPF_CALL) || insn->src_reg != BPF_PSEUDO_CALL)
            continue;
        uint32_t callee = verifier->function_of[(int64_t)pc + 1 + insn->imm];
        uint32_t depth = stack_depth_from(verifier, callee, level + 1);
        if (depth > deepest)
            deepest = depth;
    }
    return (info->stack_depth + 7) / 8 * 8 + deepest;
}

/* The frames of a chain of calls share one stack budget, as in Linux (MAX_BPF_STACK). */
static int check_combined_stack(verifier_t *verifier)
{
    uint32_t total = stack_depth_from(verifier, 0, 0);
    if (total <= VERIFIER_FRAME_SIZE)
        return 0;
    /* Report the call from the main function that starts the deepest chain. */
    const function_info_t *main_function = &verifier->functions[0];
    uint32_t at = 0, deepest = 0;
    for (uint32_t pc = main_function->start; pc < main_function->end; pc++) {
        const struct bpf_insn *insn = &verifier->insns[pc];
        if (insn->code != (BPF_JMP | BPF_CALL) || insn->src_reg != BPF_PSEUDO_CALL)
            continue;
        uint32_t depth =
            stack_depth_from(verifier, verifier->function_of[(int64_t)pc + 1 + insn->imm], 1);
        if (depth >= deepest) {
            deepest = depth;
            at = pc;
        }
    }
    return verifier_reject(verifier, at,
                           "combined stack too large: the frames of this chain of calls use %u "
                           "bytes of stack together, more than %d",
                           total, VERIFIER_FRAME_SIZE);
}

static void verifier_cleanup(verifier_t *verifier)
{
    while (verifier->alive)
        checkpoint_free(verifier, verifier->alive);
    for (uint32_t i = 0; i < verifier->pending_count; i++)
        state_free(verifier->pending[i].state);
    ebpf_free(verifier->pending);
    state_destroy_working(verifier->current);
    ebpf_free(verifier->insn_flags);
    ebpf_free(verifier->live);
    ebpf_free(verifier->function_of);
    ebpf_free(verifier->functions);
    ebpf_free(verifier->checkpoints);
    if (verifier->loop_heads)
        for (uint32_t pc = 0; pc < verifier->count; pc++)
            ebpf_free(verifier->loop_heads[pc].entries);
    ebpf_free(verifier->loop_heads);
    ebpf_free(verifier->state_counts);
    ebpf_free(verifier->history);
}

int ebpf_verify_program(const struct bpf_insn *instructions, uint32_t instruction_count,
                        const ebpf_program_info_t *program_info, const ebpf_verifier_map_t *maps,
                        uint32_t map_count, const ebpf_verifier_options_t *options,
                        ebpf_verifier_result_t *result)
{
    static const ebpf_verifier_options_t default_options;
    uint64_t started = ebpf_clock_monotonic_ns();
    verifier_t verifier;
    int err;

    if (!result)
        return ebpf_error(-EINVAL, "verifier: no place for the result");
    memset(result, 0, sizeof(*result));
    if (!instructions || instruction_count == 0)
        return ebpf_error(-EINVAL, "verifier: the program has no instructions");
    if (instruction_count > EBPF_VERIFIER_DEFAULT_INSTRUCTION_BUDGET)
        return ebpf_error(-E2BIG, "verifier: %u instructions exceed the limit of %u",
                          instruction_count, EBPF_VERIFIER_DEFAULT_INSTRUCTION_BUDGET);
    if (!program_info)
        return ebpf_error(-EINVAL, "verifier: no program information");
    if (map_count && !maps)
        return ebpf_error(-EINVAL, "verifier: %u maps but no map array", map_count);
    if (!options)
        options = &default_options;
    if (options->context_field_count && !options->context_fields)
        return ebpf_error(-EINVAL, "verifier: %u context fields but no field array",
                          options->context_field_count);

    memset(&verifier, 0, sizeof(verifier));
    verifier.insns = instructions;
    verifier.count = instruction_count;
    verifier.info = program_info;
    if (program_info->program_type_descriptor)
        verifier.context = program_info->program_type_descriptor->context_descriptor;
    verifier.maps = maps;
    verifier.map_count = map_count;
    verifier.options = options;
    verifier.budget = options->instruction_budget ? options->instruction_budget
                                                  : EBPF_VERIFIER_DEFAULT_INSTRUCTION_BUDGET;
    verifier.verbose = options->verbose;
    verifier.error_pc = UINT32_MAX;

    verifier.insn_flags = ebpf_allocate_array(instruction_count, sizeof(*verifier.insn_flags));
    verifier.live = ebpf_allocate_array(instruction_count, sizeof(*verifier.live));
    verifier.function_of = ebpf_allocate_array(instruction_count, sizeof(*verifier.function_of));
    verifier.checkpoints = ebpf_allocate_array(instruction_count, sizeof(*verifier.checkpoints));
    verifier.loop_heads = ebpf_allocate_array(instruction_count, sizeof(*verifier.loop_heads));
    verifier.state_counts = ebpf_allocate_array(instruction_count, sizeof(*verifier.state_counts));
    if (!verifier.insn_flags || !verifier.live || !verifier.function_of || !verifier.checkpoints ||
        !verifier.loop_heads || !verifier.state_counts) {
        verifier_out_of_memory(&verifier);
        err = -ENOMEM;
    } else {
        err = verifier_check_structure(&verifier);
        if (!err)
            err = state_create_working(&verifier, &verifier.current);
        if (!err)
            err = explore(&verifier);
        if (!err)
            err = check_combined_stack(&verifier);
    }

    if (verifier.failed && verifier.error == -ENOMEM) {
        verifier_cleanup(&verifier);
        return ebpf_error(-ENOMEM, "verifier: out of memory");
    }
    result->processed_instructions = verifier.processed;
    result->writes_packet = verifier.writes_packet;
    if (!verifier.failed) {
        result->accepted = true;
        result->max_stack_depth = stack_depth_from(&verifier, 0, 0);
        verifier_cleanup(&verifier);
        result->elapsed_ns = ebpf_clock_monotonic_ns() - started;
        ebpf_error_clear();
        return 0;
    }

    result->error_instruction = verifier.error_pc;
    result->log = build_log(&verifier);
    char assembly[128] = "";
    if (verifier.error_pc < instruction_count)
        verifier_disassemble(&verifier, verifier.error_pc, assembly, sizeof(assembly));
    verifier_cleanup(&verifier);
    result->elapsed_ns = ebpf_clock_monotonic_ns() - started;
    if (!result->log)
        return ebpf_error(-ENOMEM, "verifier: out of memory for the log");
    if (verifier.error_pc < instruction_count)
        return ebpf_error(-EACCES, "instruction %u: %s: %s", verifier.error_pc, assembly,
                          verifier.reason);
    return ebpf_error(-EACCES, "%s", verifier.reason);
}

void ebpf_verifier_result_free(ebpf_verifier_result_t *result)
{
    if (!result)
        return;
    ebpf_free(result->log);
    result->log = NULL;
}
