#!/bin/bash
# Submits the shard array and the merge step that waits for all of it (--dependency=afterok).
# Extra arguments go to the array's sbatch, e.g. ./submit.sh --array=0-31 --partition=gpu
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${INPUT:?set INPUT to the batch input, on a filesystem every node sees}"
INPUT=$(realpath "$INPUT")
WORKDIR=$(realpath -m "${WORKDIR:-$PWD/vbatch-work}")
export INPUT WORKDIR
mkdir -p "$WORKDIR"

array=$(sbatch --parsable --export=ALL "$@" "$here/vbatch-array.sbatch")
array=${array%%;*} # --parsable prints "jobid" or "jobid;cluster"
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/vbatch-merge.sbatch")
echo "array job $array; merge job ${merge%%;*} starts once every task has exited 0"
echo "results: $WORKDIR/answers.jsonl (shards in $WORKDIR/shards/<task>/)"
