#compdef autowf

autoload -U is-at-least

_autowf() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_autowf_commands" \
"*::: :->autowf" \
&& ret=0
    case $state in
    (autowf)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-command-$line[1]:"
        case $line[1] in
            (run)
_arguments "${_arguments_options[@]}" : \
'*-p+[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'*--param=[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'--params-file=[Read parameters from a TOML or JSON file; \`-p\` wins over it]:FILE:_files' \
'-j+[How many tasks run at once \[default\: number of CPUs\]]:JOBS:_default' \
'--jobs=[How many tasks run at once \[default\: number of CPUs\]]:JOBS:_default' \
'--executor=[Where tasks run\: \`local\` (this machine) or \`slurm\` (batch jobs through sbatch); a task'\''s \`executor\` option overrides it \[default\: the \`executor\` setting, else local\]]:EXECUTOR:((local\:"Threads and child processes of this autowf"
slurm\:"Batch jobs submitted with sbatch"))' \
'--timeout=[Stop the whole run after this long (e.g. "30s", "2h"); exit code 124]:DURATION:_default' \
'--max-dynamic-tasks=[Most nodes that \`.map\` and \`.then\` may add while the flow runs]:N:_default' \
'--lock=[One run at a time per flow and state directory\: \`fail\` (exit 4, the default), \`skip\` (exit 0), \`wait\` or \`wait=DURATION\` when another run holds the lock]::MODE:_default' \
'--events=[Write every run event to FILE as JSON lines (NDJSON), as they happen]:FILE:_files' \
'--summary=[Write the run summary (the \`--json\` document) to FILE]:FILE:_files' \
'--junit=[Write a JUnit XML report to FILE\: one test case per node, for CI test reports]:FILE:_files' \
'--metrics-textfile=[Write run metrics to FILE in the Prometheus text format (for node_exporter'\''s textfile collector; name it \`*.prom\`)]:FILE:_files' \
'--on-failure=[What a failed task does to the rest of the run \[default\: the flow'\''s \`on_failure\`, else fail_fast\]]:ON_FAILURE:(fail_fast keep_going)' \
'(--dry-run)--resume=[Continue an earlier run of this flow (\`last\`, the default, or a run id or prefix)\: reuse the results of its succeeded nodes whose key still matches, run the rest]::RUN:_default' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print a run summary as JSON instead of the flow'\''s result]' \
'(--refresh)--no-cache[Neither read nor write the result cache]' \
'--refresh[Recompute every cached task and overwrite its cache entry]' \
'--dry-run[Run nothing\: print, for each node, whether it would run or be taken from the cache, and why (with --json, as a JSON document)]' \
'(--dry-run --resume --timeout --lock --events --summary --junit --metrics-textfile)--submit-all[With the slurm executor\: submit every node at once as a Slurm job that waits for its dependencies'\'' jobs (\`--dependency=afterok\:\`), print the job ids as JSON and exit without waiting. Refuses flows that need autowf while they run (results passed between nodes, \`.map\`, \`.then\`, \`cache_ttl\`, \`retries\`, ...)]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The flow script:_files' \
'::flow -- Which flow to run; needed when the script registers several:_default' \
&& ret=0
;;
(describe)
_arguments "${_arguments_options[@]}" : \
'*-p+[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'*--param=[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'--params-file=[Read parameters from a TOML or JSON file; \`-p\` wins over it]:FILE:_files' \
'--format=[Output format]:FORMAT:(text json mermaid)' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::file -- The flow script \[default\: every script under `flows/`, or the `flows-dir` setting\]:_files' \
'::flow -- Describe only this flow:_default' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Files or directories to search for `.rhai` scripts \[default\: `flows/`, or the `flows-dir` setting\]:_files' \
&& ret=0
;;
(export-dot)
_arguments "${_arguments_options[@]}" : \
'*-p+[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'*--param=[Set a flow parameter (repeatable); typed by the parameter'\''s default]:KEY=VALUE:_default' \
'--params-file=[Read parameters from a TOML or JSON file; \`-p\` wins over it]:FILE:_files' \
'-o+[Write to this file instead of stdout]:FILE:_files' \
'--output=[Write to this file instead of stdout]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The flow script:_files' \
'::flow -- Which flow; needed when the script registers several:_default' \
&& ret=0
;;
(config)
_arguments "${_arguments_options[@]}" : \
'-j+[As for \`run\`]:JOBS:_default' \
'--jobs=[As for \`run\`]:JOBS:_default' \
'--max-dynamic-tasks=[As for \`run\`]:N:_default' \
'--on-failure=[As for \`run\`]:ON_FAILURE:(fail_fast keep_going)' \
'--executor=[As for \`run\`]:EXECUTOR:((local\:"Threads and child processes of this autowf"
slurm\:"Batch jobs submitted with sbatch"))' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'::file -- A flow file\: its directory decides which `autowf.toml` applies \[default\: this directory\]:_files' \
&& ret=0
;;
(cache)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_autowf__subcmd__cache_commands" \
"*::: :->cache" \
&& ret=0

    case $state in
    (cache)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-cache-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(rm)
_arguments "${_arguments_options[@]}" : \
'(--all)--task=[Remove every entry of this task]:TASK:_default' \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--all[Remove every entry]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::keys -- Keys or unique key prefixes (at least 4 characters):_default' \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
'--older-than=[e.g. "7d", "12h"]:DURATION:_default' \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__cache__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-cache-help-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rm)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(artifacts)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_autowf__subcmd__artifacts_commands" \
"*::: :->artifacts" \
&& ret=0

    case $state in
    (artifacts)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-artifacts-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::run -- The run\: a run id (a directory name under `runs/`) or `last` \[default\: the latest run\]:_default' \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
'-o+[Write the bytes to FILE (replaced atomically) instead of stdout]:FILE:_files' \
'--output=[Write the bytes to FILE (replaced atomically) instead of stdout]:FILE:_files' \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':run -- The run\: a run id (a directory name under `runs/`) or `last`:_default' \
':name -- The artifact'\''s name, as `artifacts ls` shows it:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__artifacts__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-artifacts-help-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(runs)
_arguments "${_arguments_options[@]}" : \
'-n+[How many runs to list]:N:_default' \
'--limit=[How many runs to list]:N:_default' \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of a table]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_autowf__subcmd__runs_commands" \
"*::: :->runs" \
&& ret=0

    case $state in
    (runs)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-runs-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--json[Print JSON instead of text]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':run -- The run\: its id, a prefix of exactly one id, or `last` (the newest):_default' \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
'--keep=[Keep the newest N ended runs of each flow]:N:_default' \
'--older-than=[Remove runs that started more than DURATION ago (e.g. "30d", "12h")]:DURATION:_default' \
'--flow=[Use the state directory of this flow file (\`.autowf/\` beside it, or what its configuration says) \[default\: the current directory'\''s\]]:FILE:_files' \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--dry-run[Print what would be removed, and remove nothing]' \
'--json[Print what was removed as JSON on stdout]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__runs__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-runs-help-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- The shell to generate completions for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(worker)
_arguments "${_arguments_options[@]}" : \
'--color=[When to use colours]:COLOR:(auto always never)' \
'--log-format=[Format of log lines on stderr; the \`log-format\` setting applies when not given]:LOG_FORMAT:(text json)' \
'--remote-store=[Where the result cache and artifact blobs are shared between hosts, as \`s3\://bucket/prefix\` (needs a build with the \`s3\` feature); runs, journals and locks stay in the state directory]:URL:_default' \
'--state-dir=[Where runs, cache and artifacts are kept \[default\: \`.autowf/\` next to the flow file\]. An \`s3\://bucket/prefix\` URL stands for \`--remote-store\`\: the cache and artifact blobs go there, runs stay in the default local directory]:DIR:_files' \
'--exit-code[Exit with code 1 when the task did not succeed (the reply is written either way)\: for jobs whose success Slurm judges by the exit code (\`run --submit-all\`)]' \
'(--exit-code)--command-line[Print the command line a shell node'\''s request gives, as it is, instead of the reply; anything else exits 1 with the reason on stderr. For the job scripts of \`run --submit-all\`, which then run that command line]' \
'(-v --verbose)-q[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'(-v --verbose)--quiet[Print only warnings, errors and the result (no event lines, no progress bars)]' \
'*-v[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'*--verbose[More output\: -v adds what tasks print, -vv debug logs. Without -q or -v the \`log-level\` setting applies]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-help-command-$line[1]:"
        case $line[1] in
            (run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(describe)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(export-dot)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(config)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(cache)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__help__subcmd__cache_commands" \
"*::: :->cache" \
&& ret=0

    case $state in
    (cache)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-help-cache-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rm)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(artifacts)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__help__subcmd__artifacts_commands" \
"*::: :->artifacts" \
&& ret=0

    case $state in
    (artifacts)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-help-artifacts-command-$line[1]:"
        case $line[1] in
            (ls)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(runs)
_arguments "${_arguments_options[@]}" : \
":: :_autowf__subcmd__help__subcmd__runs_commands" \
"*::: :->runs" \
&& ret=0

    case $state in
    (runs)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:autowf-help-runs-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(worker)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_autowf_commands] )) ||
_autowf_commands() {
    local commands; commands=(
'run:Run a flow and print its result as JSON' \
'describe:Show a script'\''s tasks, flows, parameters and graph' \
'list:List the flows and tasks found in files or directories' \
'export-dot:Print a flow'\''s graph in Graphviz DOT' \
'config:Print the settings a run would use and where each comes from' \
'cache:Inspect and clean the result cache\: ls, rm, gc, verify' \
'artifacts:List or fetch the artifacts a run kept' \
'runs:List recent runs, newest first, show one with \`runs show RUN\`, or prune with \`runs gc\`' \
'completions:Print a shell completion script' \
'worker:Run one task call sent as JSON on stdin (used for \`run_in\: "process"\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts_commands] )) ||
_autowf__subcmd__artifacts_commands() {
    local commands; commands=(
'ls:List a run'\''s artifacts\: name, size in bytes, node, digest' \
'get:Write an artifact'\''s bytes to stdout or to a file' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf artifacts commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__get_commands] )) ||
_autowf__subcmd__artifacts__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'autowf artifacts get commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__help_commands] )) ||
_autowf__subcmd__artifacts__subcmd__help_commands() {
    local commands; commands=(
'ls:List a run'\''s artifacts\: name, size in bytes, node, digest' \
'get:Write an artifact'\''s bytes to stdout or to a file' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf artifacts help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__help__subcmd__get_commands] )) ||
_autowf__subcmd__artifacts__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'autowf artifacts help get commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__help__subcmd__help_commands] )) ||
_autowf__subcmd__artifacts__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'autowf artifacts help help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__help__subcmd__ls_commands] )) ||
_autowf__subcmd__artifacts__subcmd__help__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf artifacts help ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__artifacts__subcmd__ls_commands] )) ||
_autowf__subcmd__artifacts__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf artifacts ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache_commands] )) ||
_autowf__subcmd__cache_commands() {
    local commands; commands=(
'ls:List the cache entries\: key, node, task, flow, age and size' \
'rm:Remove entries\: by key (or a unique prefix of one), every entry of a task, or all' \
'gc:Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes' \
'verify:Re-check every entry'\''s checksum and content; exit 1 when one is damaged' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf cache commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__gc_commands] )) ||
_autowf__subcmd__cache__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help_commands] )) ||
_autowf__subcmd__cache__subcmd__help_commands() {
    local commands; commands=(
'ls:List the cache entries\: key, node, task, flow, age and size' \
'rm:Remove entries\: by key (or a unique prefix of one), every entry of a task, or all' \
'gc:Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes' \
'verify:Re-check every entry'\''s checksum and content; exit 1 when one is damaged' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf cache help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help__subcmd__gc_commands] )) ||
_autowf__subcmd__cache__subcmd__help__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache help gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help__subcmd__help_commands] )) ||
_autowf__subcmd__cache__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache help help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help__subcmd__ls_commands] )) ||
_autowf__subcmd__cache__subcmd__help__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache help ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help__subcmd__rm_commands] )) ||
_autowf__subcmd__cache__subcmd__help__subcmd__rm_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache help rm commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__help__subcmd__verify_commands] )) ||
_autowf__subcmd__cache__subcmd__help__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache help verify commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__ls_commands] )) ||
_autowf__subcmd__cache__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__rm_commands] )) ||
_autowf__subcmd__cache__subcmd__rm_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache rm commands' commands "$@"
}
(( $+functions[_autowf__subcmd__cache__subcmd__verify_commands] )) ||
_autowf__subcmd__cache__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'autowf cache verify commands' commands "$@"
}
(( $+functions[_autowf__subcmd__completions_commands] )) ||
_autowf__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'autowf completions commands' commands "$@"
}
(( $+functions[_autowf__subcmd__config_commands] )) ||
_autowf__subcmd__config_commands() {
    local commands; commands=()
    _describe -t commands 'autowf config commands' commands "$@"
}
(( $+functions[_autowf__subcmd__describe_commands] )) ||
_autowf__subcmd__describe_commands() {
    local commands; commands=()
    _describe -t commands 'autowf describe commands' commands "$@"
}
(( $+functions[_autowf__subcmd__export-dot_commands] )) ||
_autowf__subcmd__export-dot_commands() {
    local commands; commands=()
    _describe -t commands 'autowf export-dot commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help_commands] )) ||
_autowf__subcmd__help_commands() {
    local commands; commands=(
'run:Run a flow and print its result as JSON' \
'describe:Show a script'\''s tasks, flows, parameters and graph' \
'list:List the flows and tasks found in files or directories' \
'export-dot:Print a flow'\''s graph in Graphviz DOT' \
'config:Print the settings a run would use and where each comes from' \
'cache:Inspect and clean the result cache\: ls, rm, gc, verify' \
'artifacts:List or fetch the artifacts a run kept' \
'runs:List recent runs, newest first, show one with \`runs show RUN\`, or prune with \`runs gc\`' \
'completions:Print a shell completion script' \
'worker:Run one task call sent as JSON on stdin (used for \`run_in\: "process"\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__artifacts_commands] )) ||
_autowf__subcmd__help__subcmd__artifacts_commands() {
    local commands; commands=(
'ls:List a run'\''s artifacts\: name, size in bytes, node, digest' \
'get:Write an artifact'\''s bytes to stdout or to a file' \
    )
    _describe -t commands 'autowf help artifacts commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__artifacts__subcmd__get_commands] )) ||
_autowf__subcmd__help__subcmd__artifacts__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help artifacts get commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__artifacts__subcmd__ls_commands] )) ||
_autowf__subcmd__help__subcmd__artifacts__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help artifacts ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__cache_commands] )) ||
_autowf__subcmd__help__subcmd__cache_commands() {
    local commands; commands=(
'ls:List the cache entries\: key, node, task, flow, age and size' \
'rm:Remove entries\: by key (or a unique prefix of one), every entry of a task, or all' \
'gc:Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes' \
'verify:Re-check every entry'\''s checksum and content; exit 1 when one is damaged' \
    )
    _describe -t commands 'autowf help cache commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__cache__subcmd__gc_commands] )) ||
_autowf__subcmd__help__subcmd__cache__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help cache gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__cache__subcmd__ls_commands] )) ||
_autowf__subcmd__help__subcmd__cache__subcmd__ls_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help cache ls commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__cache__subcmd__rm_commands] )) ||
_autowf__subcmd__help__subcmd__cache__subcmd__rm_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help cache rm commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__cache__subcmd__verify_commands] )) ||
_autowf__subcmd__help__subcmd__cache__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help cache verify commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__completions_commands] )) ||
_autowf__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help completions commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__config_commands] )) ||
_autowf__subcmd__help__subcmd__config_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help config commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__describe_commands] )) ||
_autowf__subcmd__help__subcmd__describe_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help describe commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__export-dot_commands] )) ||
_autowf__subcmd__help__subcmd__export-dot_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help export-dot commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__help_commands] )) ||
_autowf__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__list_commands] )) ||
_autowf__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help list commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__run_commands] )) ||
_autowf__subcmd__help__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help run commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__runs_commands] )) ||
_autowf__subcmd__help__subcmd__runs_commands() {
    local commands; commands=(
'show:Show one run\: its facts, parameters and each node'\''s status, attempts, duration and error' \
'gc:Remove old runs, and the artifact blobs no remaining run or cache entry names' \
    )
    _describe -t commands 'autowf help runs commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__runs__subcmd__gc_commands] )) ||
_autowf__subcmd__help__subcmd__runs__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help runs gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__runs__subcmd__show_commands] )) ||
_autowf__subcmd__help__subcmd__runs__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help runs show commands' commands "$@"
}
(( $+functions[_autowf__subcmd__help__subcmd__worker_commands] )) ||
_autowf__subcmd__help__subcmd__worker_commands() {
    local commands; commands=()
    _describe -t commands 'autowf help worker commands' commands "$@"
}
(( $+functions[_autowf__subcmd__list_commands] )) ||
_autowf__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'autowf list commands' commands "$@"
}
(( $+functions[_autowf__subcmd__run_commands] )) ||
_autowf__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'autowf run commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs_commands] )) ||
_autowf__subcmd__runs_commands() {
    local commands; commands=(
'show:Show one run\: its facts, parameters and each node'\''s status, attempts, duration and error' \
'gc:Remove old runs, and the artifact blobs no remaining run or cache entry names' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf runs commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__gc_commands] )) ||
_autowf__subcmd__runs__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf runs gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__help_commands] )) ||
_autowf__subcmd__runs__subcmd__help_commands() {
    local commands; commands=(
'show:Show one run\: its facts, parameters and each node'\''s status, attempts, duration and error' \
'gc:Remove old runs, and the artifact blobs no remaining run or cache entry names' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'autowf runs help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__help__subcmd__gc_commands] )) ||
_autowf__subcmd__runs__subcmd__help__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'autowf runs help gc commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__help__subcmd__help_commands] )) ||
_autowf__subcmd__runs__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'autowf runs help help commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__help__subcmd__show_commands] )) ||
_autowf__subcmd__runs__subcmd__help__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'autowf runs help show commands' commands "$@"
}
(( $+functions[_autowf__subcmd__runs__subcmd__show_commands] )) ||
_autowf__subcmd__runs__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'autowf runs show commands' commands "$@"
}
(( $+functions[_autowf__subcmd__worker_commands] )) ||
_autowf__subcmd__worker_commands() {
    local commands; commands=()
    _describe -t commands 'autowf worker commands' commands "$@"
}

if [ "$funcstack[1]" = "_autowf" ]; then
    _autowf "$@"
else
    compdef _autowf autowf
fi
