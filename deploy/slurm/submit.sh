#!/bin/bash
# Submits the shard array and the merge step that waits for all of it (--dependency=afterany: a
# task cancelled and requeued would fail afterok for good), after asking Slurm (sbatch
# --test-only) whether a task can run at all, so a request no node can meet is refused here rather
# than pending forever.
#   ./submit.sh --array=0-31 --partition=gpu --account=proj   # sbatch options for the array
#   ./submit.sh --merge-after <array job id> [site options]    # only the merge step, again
# Site options (--partition, --account, --qos, --reservation, --clusters, --wckey, and -p -A -q -M)
# go to both jobs; every other option goes to the array only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "vbatch: error: $*" >&2; exit 2; }

site=()
array_args=()
merge_after=""
while (( $# )); do
  arg=$1
  shift
  case $arg in
    --merge-after)
      (( $# )) || die "--merge-after needs the array job id"
      merge_after=$1
      shift ;;
    --merge-after=*) merge_after=${arg#*=} ;;
    --partition=* | --account=* | --qos=* | --reservation=* | --clusters=* | --wckey=*) site+=("$arg") ;;
    --partition | --account | --qos | --reservation | --clusters | --wckey | -p | -A | -q | -M)
      (( $# )) || die "$arg needs a value"
      site+=("$arg" "$1")
      shift ;;
    -p?* | -A?* | -q?* | -M?*) site+=("$arg") ;;
    *) array_args+=("$arg") ;;
  esac
done
if [[ -n $merge_after && ${#array_args[@]} -gt 0 ]]; then
  die "--merge-after submits the merge step alone: ${array_args[*]} would be lost (only site options apply)"
fi

: "${INPUT:?set INPUT to the batch input, on a filesystem every node sees}"
[[ -r $INPUT ]] || die "INPUT=$INPUT: no such readable file"
INPUT=$(realpath "$INPUT")
WORKDIR=$(realpath -m "${WORKDIR:-$PWD/vbatch-work}")
export INPUT WORKDIR
mkdir -p "$WORKDIR"

# Asks Slurm whether a job could run, without submitting it; why not in $reason.
reason=""
can_run() {
  local out
  if ! out=$(sbatch --test-only "$@" 2>&1); then
    reason=$(grep -v '^sbatch: Job [0-9]* to start' <<< "$out" | tail -n 1 |
      sed -e 's/^allocation failure: //' -e 's/^sbatch: error: //')
    return 1
  fi
}
# The one case worth explaining: nothing in the partition is that big, which sbatch accepts and
# then leaves pending forever with reason PartitionConfig (Slurm 22.05, EnforcePartLimits=NO).
explain() {
  if [[ $reason == "Requested node configuration is not available" ]]; then
    echo "$reason: no node it may use has the GPUs (--gres), CPUs (--cpus-per-gpu x GPUs) or memory (--mem) asked for; compare with sinfo -o '%P %D %c %m %G'"
  else
    echo "$reason"
  fi
}

merge_opts=(--export=ALL "${site[@]+"${site[@]}"}")
submit_merge() { # $1: the array job id
  local dep=()
  # A job Slurm has already forgotten cannot be depended on; it has ended anyway.
  if [[ -n $(squeue -h -j "$1" -o %i 2>/dev/null) ]]; then dep=(--dependency="afterany:$1"); fi
  local id
  id=$(VBATCH_ARRAY_JOB=$1 sbatch --parsable "${merge_opts[@]}" "${dep[@]+"${dep[@]}"}" \
    "$here/vbatch-merge.sbatch")
  echo "${id%%;*}" # --parsable prints "jobid" or "jobid;cluster"
}

if [[ -n $merge_after ]]; then
  can_run "${merge_opts[@]}" "$here/vbatch-merge.sbatch" ||
    die "sbatch --test-only refuses the merge step: $(explain); nothing submitted"
  merge=$(submit_merge "$merge_after")
  echo "merge job $merge, after array job $merge_after; results: $WORKDIR/answers.jsonl"
  exit 0
fi

array_opts=(--export=ALL "${array_args[@]+"${array_args[@]}"}" "${site[@]+"${site[@]}"}")
can_run "${array_opts[@]}" "$here/vbatch-array.sbatch" ||
  die "sbatch --test-only refuses an array task: $(explain); nothing submitted"
can_run "${merge_opts[@]}" "$here/vbatch-merge.sbatch" ||
  die "sbatch --test-only refuses the merge step: $(explain); nothing submitted"

array=$(sbatch --parsable "${array_opts[@]}" "$here/vbatch-array.sbatch")
array=${array%%;*}
merge=$(submit_merge "$array")
echo "array job $array; merge job $merge starts once every task has ended, and checks every shard is complete"
echo "results: $WORKDIR/answers.jsonl (shards in $WORKDIR/shards/<task>/)"
