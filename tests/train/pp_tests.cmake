# Pipeline-parallel equivalence tests of `weft train --pp` (included from
# tests/train/tests.cmake, which defines the shard, dp_check and the dp_ref
# fixture). Same model and data as the DP tests (d4, vocab 512, T=16, 20 steps,
# 1 thread per rank). A pipeline run with m micro-batches of the global batch 4
# must reproduce one rank with --batch 4 --grad-accum m (losses and grad norms
# rel 1e-5, final parameters rel 1e-5); with dp2 the reference is one rank on
# batch 2 × accum 2m, and the parameter tolerance 5e-5 as for DP with accumulation
# (the gradient sum is grouped differently: docs/parallel.md).
add_test(NAME pp_setup
         COMMAND bash -c "'$<TARGET_FILE:weft>' $<JOIN:${dp_common}, > --batch 4 --grad-accum 2 --out '${dp_dir}/ref_b4_a2' && \
'$<TARGET_FILE:weft>' $<JOIN:${dp_common}, > --batch 4 --grad-accum 4 --out '${dp_dir}/ref_b4_a4'")
set_tests_properties(pp_setup PROPERTIES FIXTURES_SETUP pp_ref FIXTURES_REQUIRED dp_ref
                     ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 60)

set(pp_tests)
macro(pp_equiv name ref ptol)
  add_test(NAME ${name} COMMAND ${dp_check} ${dp_dir}/${ref} ${dp_dir}/${name} ${ptol} ${ARGN})
  list(APPEND pp_tests ${name})
endmacro()

foreach(s gpipe 1f1b)
  # Thread ranks: pp2 (m = 2, the default m = pp), pp4 (m = 4), dp2·pp2 with ZeRO 0 and 1.
  pp_equiv(pp_threads_pp2_${s} ref_b4_a2 1e-5 $<TARGET_FILE:weft> ${dp_args} --pp 2 --schedule ${s} --ranks-as threads)
  pp_equiv(pp_threads_pp4_${s} ref_b4_a4 1e-5 $<TARGET_FILE:weft> ${dp_args} --pp 4 --micro-batches 4 --schedule ${s} --ranks-as threads)
  pp_equiv(pp_threads_dp2_pp2_${s} ref_n2_accum2 5e-5 $<TARGET_FILE:weft> ${dp_args} --ranks 4 --pp 2 --schedule ${s} --ranks-as threads)
endforeach()
pp_equiv(pp_threads_dp2_pp2_zero1 ref_n2_accum2 5e-5 $<TARGET_FILE:weft> ${dp_args} --ranks 4 --pp 2 --zero 1 --ranks-as threads)
pp_equiv(pp_threads_dp2_pp2_zero2 ref_n2_accum2 5e-5 $<TARGET_FILE:weft> ${dp_args} --ranks 4 --pp 2 --zero 2 --test-poison --ranks-as threads)
# m given as --grad-accum (m = 4 on 2 stages).
pp_equiv(pp_threads_pp2_accum4 ref_b4_a4 1e-5 $<TARGET_FILE:weft> ${dp_args} --pp 2 --grad-accum 4 --ranks-as threads)

# With tensor parallelism (tp2·pp2, dp2·tp2·pp2): parameter tolerance 5e-3 as for tp
# alone (tp regroups every matmul's sum; tests/train/tp_tests.cmake says why).
foreach(s gpipe 1f1b)
  pp_equiv(pp_threads_tp2_pp2_${s} ref_b4_a2 5e-3 $<TARGET_FILE:weft> ${dp_args} --tp 2 --pp 2 --schedule ${s} --ranks-as threads)
  pp_equiv(pp_threads_dp2_tp2_pp2_${s} ref_n2_accum2 5e-3 $<TARGET_FILE:weft> ${dp_args} --dp 2 --tp 2 --pp 2 --schedule ${s} --ranks-as threads)
endforeach()
pp_equiv(pp_threads_dp2_tp2_pp2_zero1 ref_n2_accum2 5e-3 $<TARGET_FILE:weft> ${dp_args} --dp 2 --tp 2 --pp 2 --zero 1 --ranks-as threads)

# A stalled stage: the others stop within the timeout naming the pipeline step.
add_test(NAME pp_threads_stall
         COMMAND ${dp_expect_failure} "pipeline stage .*timed out after 1 s" 40
                 $<TARGET_FILE:weft> ${dp_args} --pp 2 --ranks-as threads --comm-timeout 1
                 --test-fault stall --test-fault-rank 1 --test-fault-step 3 --out ${dp_dir}/pp_stall)
add_test(NAME pp_too_many_stages
         COMMAND ${dp_expect_failure} "--pp 5 exceeds the model's 4 layers" 30
                 $<TARGET_FILE:weft> ${dp_args} --pp 5 --ranks-as threads --out ${dp_dir}/pp_bad)
list(APPEND pp_tests pp_threads_stall pp_too_many_stages)

if(WEFT_HAVE_MPI)
  set(pp_mpirun ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root)
  pp_equiv(pp_mpi_pp2_1f1b ref_b4_a2 1e-5 ${pp_mpirun} -np 2 $<TARGET_FILE:weft> ${dp_args} --pp 2 --schedule 1f1b)
  pp_equiv(pp_mpi_pp4_gpipe ref_b4_a4 1e-5 ${pp_mpirun} -np 4 $<TARGET_FILE:weft> ${dp_args} --pp 4 --micro-batches 4 --schedule gpipe)
  pp_equiv(pp_mpi_dp2_pp2_zero1 ref_n2_accum2 5e-5 ${pp_mpirun} -np 4 $<TARGET_FILE:weft> ${dp_args} --pp 2 --zero 1 --schedule 1f1b)
  pp_equiv(pp_mpi_dp2_pp2_zero2 ref_n2_accum2 5e-5 ${pp_mpirun} -np 4 $<TARGET_FILE:weft> ${dp_args} --pp 2 --zero 2 --test-poison --schedule gpipe)
  pp_equiv(pp_mpi_tp2_pp2_gpipe ref_b4_a2 5e-3 ${pp_mpirun} -np 4 $<TARGET_FILE:weft> ${dp_args} --tp 2 --pp 2 --schedule gpipe)
endif()

set_tests_properties(${pp_tests} PROPERTIES FIXTURES_REQUIRED "dp_ref;pp_ref"
                     ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 90)
