/* kcb/distributed.h — data-parallel fit across processes (Open MPI; optional at build time).
 *
 * A distributed fit is the same fit on every process ("rank") of an MPI job: each rank is given the
 * same data and options, takes its shard of every global batch (batch_size is the global batch; the
 * seeded shuffle is the same on every rank), and all ranks apply the same averaged gradient, so the
 * weights stay identical everywhere. BatchNormalization uses the global batch's statistics, summed
 * over the ranks (Keras's synchronized=True), so it trains as in one process. Callbacks on every
 * rank see the logs a single process would see; the file-writing built-ins (TensorBoard, CSVLogger,
 * ModelCheckpoint, ProgbarLogger, BackupAndRestore) run on rank 0 only. MPI itself stays private:
 * no MPI type appears here. */
#ifndef KCB_DISTRIBUTED_H
#define KCB_DISTRIBUTED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An MPI communicator made ready for fit (see kcb_fit_options.distributed). */
typedef struct kcb_distributed kcb_distributed;

/** What kcb_distributed_new takes. */
typedef struct kcb_distributed_options {
  const void *mpi_comm; /* NULL: MPI_COMM_WORLD; else points at the caller's MPI_Comm (duplicated) */
} kcb_distributed_options;
#define KCB_DISTRIBUTED_OPTIONS_INIT {NULL}

/** Whether this kcb was built with MPI (the KCB_MPI build option). @return 1 or 0. */
int kcb_distributed_available(void);

/** Whether this process was started by an MPI launcher (mpirun / mpiexec set OMPI_COMM_WORLD_SIZE,
 * or PMI_SIZE / PMIX_RANK for other launchers). Reads the environment only; MPI is not touched.
 * @return 1 or 0. */
int kcb_distributed_launched(void);

/** The rank the launcher gave this process (OMPI_COMM_WORLD_RANK, PMI_RANK or PMIX_RANK), 0 when not
 * launched: for a program that must know before joining the job whether it is rank 0 (to print
 * once). Reads the environment only. */
int kcb_distributed_launched_rank(void);

/** Joins the MPI job: initialises MPI unless the program already did, and duplicates the
 * communicator so kcb's messages never mix with the caller's.
 * @param[out] out freed with kcb_distributed_free (which finalises MPI, with the last handle, if
 *                 kcb initialised it).
 * @return 0, KCB_ESTATE (kcb built without MPI: the message says how to build it), KCB_EIO (MPI
 *         failed to start) or KCB_ENOMEM. */
int kcb_distributed_new(kcb_distributed **out, const kcb_distributed_options *opts);

/** This process's rank (0 .. size-1); 0 for NULL. */
int kcb_distributed_rank(const kcb_distributed *d);

/** The number of processes; 1 for NULL. */
int kcb_distributed_size(const kcb_distributed *d);

/** The time this rank spent in the gradient allreduce of its distributed fits so far, waiting for
 * slower ranks included, and the number of allreduces (one per training step): the communication
 * share of a step. 0 and 0 for NULL. */
void kcb_distributed_allreduce_time(const kcb_distributed *d, double *out_seconds, int64_t *out_calls);

/** The largest of every process's *value, into *value on every process: a collective call, so
 * every rank must make it at the same point (e.g. after a fit that every rank ended together, to
 * agree on which signal stopped it). Leaves *value as it is for NULL or a one-process job.
 * @return 0 or KCB_EIO. */
int kcb_distributed_max_int(const kcb_distributed *d, int *value);

/** Ends the whole job with `status` (MPI_Abort). For a program that failed on this rank outside a
 * distributed fit (fit itself makes every rank fail together): the other ranks may be waiting for
 * this one in their next collective step and would otherwise wait forever.
 * Only programs call this (the library never ends a process by itself); does nothing for NULL or
 * a one-process job, and returns then. */
void kcb_distributed_abort(kcb_distributed *d, int status);

/** Frees d; finalises MPI if kcb_distributed_new initialised it and d is the last handle left
 * (another one still in use keeps MPI running). Accepts NULL. Not from inside a fit, evaluate or
 * predict given d (a callback's hook): MPI_Finalize there waits for ranks that wait for this one. */
void kcb_distributed_free(kcb_distributed *d);

#ifdef __cplusplus
}
#endif
#endif
