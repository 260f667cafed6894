# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_autowf_global_optspecs
    string join \n color= log-format= q/quiet remote-store= state-dir= v/verbose h/help V/version
end

function __fish_autowf_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_autowf_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_autowf_using_subcommand
    set -l cmd (__fish_autowf_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c autowf -n "__fish_autowf_needs_command" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_needs_command" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_needs_command" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_needs_command" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_needs_command" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_needs_command" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_needs_command" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_needs_command" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "run" -d 'Run a flow and print its result as JSON'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "describe" -d 'Show a script\'s tasks, flows, parameters and graph'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "list" -d 'List the flows and tasks found in files or directories'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "export-dot" -d 'Print a flow\'s graph in Graphviz DOT'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "config" -d 'Print the settings a run would use and where each comes from'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "cache" -d 'Inspect and clean the result cache: ls, rm, gc, verify'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "artifacts" -d 'List or fetch the artifacts a run kept'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "runs" -d 'List recent runs, newest first, show one with `runs show RUN`, or prune with `runs gc`'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "worker" -d 'Run one task call sent as JSON on stdin (used for `run_in: "process"`)'
complete -c autowf -n "__fish_autowf_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand run" -s p -l param -d 'Set a flow parameter (repeatable); typed by the parameter\'s default' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l params-file -d 'Read parameters from a TOML or JSON file; `-p` wins over it' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -s j -l jobs -d 'How many tasks run at once [default: number of CPUs]' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l executor -d 'Where tasks run: `local` (this machine) or `slurm` (batch jobs through sbatch); a task\'s `executor` option overrides it [default: the `executor` setting, else local]' -r -f -a "local\t'Threads and child processes of this autowf'
slurm\t'Batch jobs submitted with sbatch'"
complete -c autowf -n "__fish_autowf_using_subcommand run" -l timeout -d 'Stop the whole run after this long (e.g. "30s", "2h"); exit code 124' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l max-dynamic-tasks -d 'Most nodes that `.map` and `.then` may add while the flow runs' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l lock -d 'One run at a time per flow and state directory: `fail` (exit 4, the default), `skip` (exit 0), `wait` or `wait=DURATION` when another run holds the lock' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l events -d 'Write every run event to FILE as JSON lines (NDJSON), as they happen' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -l summary -d 'Write the run summary (the `--json` document) to FILE' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -l junit -d 'Write a JUnit XML report to FILE: one test case per node, for CI test reports' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -l metrics-textfile -d 'Write run metrics to FILE in the Prometheus text format (for node_exporter\'s textfile collector; name it `*.prom`)' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -l on-failure -d 'What a failed task does to the rest of the run [default: the flow\'s `on_failure`, else fail_fast]' -r -f -a "fail_fast\t''
keep_going\t''"
complete -c autowf -n "__fish_autowf_using_subcommand run" -l resume -d 'Continue an earlier run of this flow (`last`, the default, or a run id or prefix): reuse the results of its succeeded nodes whose key still matches, run the rest' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand run" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand run" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand run" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand run" -l json -d 'Print a run summary as JSON instead of the flow\'s result'
complete -c autowf -n "__fish_autowf_using_subcommand run" -l no-cache -d 'Neither read nor write the result cache'
complete -c autowf -n "__fish_autowf_using_subcommand run" -l refresh -d 'Recompute every cached task and overwrite its cache entry'
complete -c autowf -n "__fish_autowf_using_subcommand run" -l dry-run -d 'Run nothing: print, for each node, whether it would run or be taken from the cache, and why (with --json, as a JSON document)'
complete -c autowf -n "__fish_autowf_using_subcommand run" -l submit-all -d 'With the slurm executor: submit every node at once as a Slurm job that waits for its dependencies\' jobs (`--dependency=afterok:`), print the job ids as JSON and exit without waiting. Refuses flows that need autowf while they run (results passed between nodes, `.map`, `.then`, `cache_ttl`, `retries`, ...)'
complete -c autowf -n "__fish_autowf_using_subcommand run" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand run" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c autowf -n "__fish_autowf_using_subcommand run" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand describe" -s p -l param -d 'Set a flow parameter (repeatable); typed by the parameter\'s default' -r
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l params-file -d 'Read parameters from a TOML or JSON file; `-p` wins over it' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l format -d 'Output format' -r -f -a "text\t''
json\t''
mermaid\t''"
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand describe" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand describe" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand describe" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand describe" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand describe" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand list" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand list" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand list" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand list" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand list" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand list" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand list" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand list" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand list" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s p -l param -d 'Set a flow parameter (repeatable); typed by the parameter\'s default' -r
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -l params-file -d 'Read parameters from a TOML or JSON file; `-p` wins over it' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s o -l output -d 'Write to this file instead of stdout' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand export-dot" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand config" -s j -l jobs -d 'As for `run`' -r
complete -c autowf -n "__fish_autowf_using_subcommand config" -l max-dynamic-tasks -d 'As for `run`' -r
complete -c autowf -n "__fish_autowf_using_subcommand config" -l on-failure -d 'As for `run`' -r -f -a "fail_fast\t''
keep_going\t''"
complete -c autowf -n "__fish_autowf_using_subcommand config" -l executor -d 'As for `run`' -r -f -a "local\t'Threads and child processes of this autowf'
slurm\t'Batch jobs submitted with sbatch'"
complete -c autowf -n "__fish_autowf_using_subcommand config" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand config" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand config" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand config" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand config" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand config" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand config" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c autowf -n "__fish_autowf_using_subcommand config" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -f -a "ls" -d 'List the cache entries: key, node, task, flow, age and size'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -f -a "rm" -d 'Remove entries: by key (or a unique prefix of one), every entry of a task, or all'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -f -a "gc" -d 'Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -f -a "verify" -d 'Re-check every entry\'s checksum and content; exit 1 when one is damaged'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and not __fish_seen_subcommand_from ls rm gc verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l task -d 'Remove every entry of this task' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -l all -d 'Remove every entry'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l older-than -d 'e.g. "7d", "12h"' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List the cache entries: key, node, task, flow, age and size'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove entries: by key (or a unique prefix of one), every entry of a task, or all'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Re-check every entry\'s checksum and content; exit 1 when one is damaged'
complete -c autowf -n "__fish_autowf_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -f -a "ls" -d 'List a run\'s artifacts: name, size in bytes, node, digest'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -f -a "get" -d 'Write an artifact\'s bytes to stdout or to a file'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and not __fish_seen_subcommand_from ls get help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -s o -l output -d 'Write the bytes to FILE (replaced atomically) instead of stdout' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List a run\'s artifacts: name, size in bytes, node, digest'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from help" -f -a "get" -d 'Write an artifact\'s bytes to stdout or to a file'
complete -c autowf -n "__fish_autowf_using_subcommand artifacts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -s n -l limit -d 'How many runs to list' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -l json -d 'Print JSON instead of a table'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -f -a "show" -d 'Show one run: its facts, parameters and each node\'s status, attempts, duration and error'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -f -a "gc" -d 'Remove old runs, and the artifact blobs no remaining run or cache entry names'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and not __fish_seen_subcommand_from show gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -l json -d 'Print JSON instead of text'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l keep -d 'Keep the newest N ended runs of each flow' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l older-than -d 'Remove runs that started more than DURATION ago (e.g. "30d", "12h")' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l flow -d 'Use the state directory of this flow file (`.autowf/` beside it, or what its configuration says) [default: the current directory\'s]' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l dry-run -d 'Print what would be removed, and remove nothing'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -l json -d 'Print what was removed as JSON on stdout'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one run: its facts, parameters and each node\'s status, attempts, duration and error'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove old runs, and the artifact blobs no remaining run or cache entry names'
complete -c autowf -n "__fish_autowf_using_subcommand runs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand completions" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand completions" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand completions" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand completions" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand completions" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand completions" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand completions" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand completions" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l log-format -d 'Format of log lines on stderr; the `log-format` setting applies when not given' -r -f -a "text\t''
json\t''"
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l remote-store -d 'Where the result cache and artifact blobs are shared between hosts, as `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks stay in the state directory' -r
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l state-dir -d 'Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file]. An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs go there, runs stay in the default local directory' -r -F
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l exit-code -d 'Exit with code 1 when the task did not succeed (the reply is written either way): for jobs whose success Slurm judges by the exit code (`run --submit-all`)'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -l command-line -d 'Print the command line a shell node\'s request gives, as it is, instead of the reply; anything else exits 1 with the reason on stderr. For the job scripts of `run --submit-all`, which then run that command line'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -s q -l quiet -d 'Print only warnings, errors and the result (no event lines, no progress bars)'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -s v -l verbose -d 'More output: -v adds what tasks print, -vv debug logs. Without -q or -v the `log-level` setting applies'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -s h -l help -d 'Print help'
complete -c autowf -n "__fish_autowf_using_subcommand worker" -s V -l version -d 'Print version'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "run" -d 'Run a flow and print its result as JSON'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "describe" -d 'Show a script\'s tasks, flows, parameters and graph'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "list" -d 'List the flows and tasks found in files or directories'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "export-dot" -d 'Print a flow\'s graph in Graphviz DOT'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "config" -d 'Print the settings a run would use and where each comes from'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "cache" -d 'Inspect and clean the result cache: ls, rm, gc, verify'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "artifacts" -d 'List or fetch the artifacts a run kept'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "runs" -d 'List recent runs, newest first, show one with `runs show RUN`, or prune with `runs gc`'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "completions" -d 'Print a shell completion script'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "worker" -d 'Run one task call sent as JSON on stdin (used for `run_in: "process"`)'
complete -c autowf -n "__fish_autowf_using_subcommand help; and not __fish_seen_subcommand_from run describe list export-dot config cache artifacts runs completions worker help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "ls" -d 'List the cache entries: key, node, task, flow, age and size'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "rm" -d 'Remove entries: by key (or a unique prefix of one), every entry of a task, or all'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "gc" -d 'Remove entries computed more than DURATION ago, damaged entries and files left by interrupted writes'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "verify" -d 'Re-check every entry\'s checksum and content; exit 1 when one is damaged'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from artifacts" -f -a "ls" -d 'List a run\'s artifacts: name, size in bytes, node, digest'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from artifacts" -f -a "get" -d 'Write an artifact\'s bytes to stdout or to a file'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "show" -d 'Show one run: its facts, parameters and each node\'s status, attempts, duration and error'
complete -c autowf -n "__fish_autowf_using_subcommand help; and __fish_seen_subcommand_from runs" -f -a "gc" -d 'Remove old runs, and the artifact blobs no remaining run or cache entry names'
