# Checkpoint drills run as processes (included from tests/train/tests.cmake; uses its
# synthetic shard and single-rank reference ref_n2 from dp_setup). ckpt_drills.sh
# says what each one checks.
set(ckpt_drill bash ${CMAKE_CURRENT_LIST_DIR}/ckpt_drills.sh)
set(ckpt_args --model d2 --vocab 512 --max-seq 32 --data ${dp_dir}/syn_train_000.bin
    --seq 16 --batch 4 --lr 1e-3 --warmup 2 --weight-decay 0.1 --threads 1
    --peak-gflops 1 --overwrite -q --bucket-mb 0.5)
set(ckpt_tests ckpt_signal ckpt_tmpfs_full ckpt_pp2_bitwise ckpt_pp2_reshard)
# Pipeline stages (d2: one block per stage, so stage 1 writes at a layer offset).
add_test(NAME ckpt_pp2_bitwise COMMAND ${ckpt_drill} pp_bitwise ${dp_dir}/ckpt_pp2_bitwise
         $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> -- ${ckpt_args})
add_test(NAME ckpt_pp2_reshard COMMAND ${ckpt_drill} pp_reshard ${dp_dir}/ckpt_pp2_reshard
         $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> -- ${ckpt_args})
add_test(NAME ckpt_signal COMMAND ${ckpt_drill} signal ${dp_dir}/ckpt_signal
         $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> -- ${ckpt_args})
add_test(NAME ckpt_tmpfs_full COMMAND ${ckpt_drill} tmpfs ${dp_dir}/ckpt_tmpfs
         $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> -- ${ckpt_args})
set_tests_properties(ckpt_tmpfs_full PROPERTIES SKIP_RETURN_CODE 77)
if(WEFT_HAVE_MPI)
  # The kill drill uses dp_setup's d4 arguments so that ref_n2 is its reference.
  set(ckpt_dp_args ${dp_common} --batch 4)
  list(REMOVE_ITEM ckpt_dp_args train --steps 20)
  add_test(NAME ckpt_mpi_bitwise COMMAND ${ckpt_drill} mpi_bitwise ${dp_dir}/ckpt_mpi_bitwise
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -np 2 -- ${ckpt_args})
  add_test(NAME ckpt_mpi_kill COMMAND ${ckpt_drill} mpi_kill ${dp_dir}/ckpt_mpi_kill
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -np 2 -- ${ckpt_dp_args})
  # dp × tp × pp grids (d4, 2 blocks per stage): 2 rows × 2 micro-batches per step,
  # so ref_n2 (one rank, B=2 × 2) is their reference.
  set(ckpt_grid_args ${ckpt_dp_args})
  list(REMOVE_ITEM ckpt_grid_args --batch 4)
  list(APPEND ckpt_grid_args --batch 2 --grad-accum 2)
  add_test(NAME ckpt_mpi_tppp_bitwise COMMAND ${ckpt_drill} tppp_bitwise ${dp_dir}/ckpt_mpi_tppp_bitwise
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -- ${ckpt_grid_args})
  add_test(NAME ckpt_mpi_grid_reshard COMMAND ${ckpt_drill} grid_reshard ${dp_dir}/ckpt_mpi_grid_reshard
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -- ${ckpt_grid_args})
  add_test(NAME ckpt_mpi_tppp_kill COMMAND ${ckpt_drill} tppp_kill ${dp_dir}/ckpt_mpi_tppp_kill
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -- ${ckpt_grid_args})
  add_test(NAME ckpt_mpi_tppp_nan COMMAND ${ckpt_drill} tppp_nan ${dp_dir}/ckpt_mpi_tppp_nan
           $<TARGET_FILE:weft_dp_compare> $<TARGET_FILE:weft> ${dp_mpirun} -- ${ckpt_grid_args})
  list(APPEND ckpt_tests ckpt_mpi_bitwise ckpt_mpi_kill)
  # 4 and 8 processes on a 2-core machine: ~10-25 s of CPU each, but minutes of wall
  # time when the machine is shared (MPI ranks spin while they wait), hence the timeout.
  set(ckpt_grid_tests ckpt_mpi_tppp_bitwise ckpt_mpi_grid_reshard ckpt_mpi_tppp_kill ckpt_mpi_tppp_nan)
  set_tests_properties(${ckpt_grid_tests} PROPERTIES FIXTURES_REQUIRED dp_ref
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 600)
endif()
set_tests_properties(${ckpt_tests} PROPERTIES FIXTURES_REQUIRED dp_ref
                     ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 120)
