/* io/foreign — what a file kcb cannot read is (a TensorFlow SavedModel or checkpoint, a PyTorch
 * or NumPy file, ...), so that its error says so instead of only "not an HDF5 file". */
#ifndef KCB_IO_FOREIGN_H
#define KCB_IO_FOREIGN_H

/* A description of the file or directory at path when it is another tool's model or data format
 * ("a TensorFlow SavedModel directory"), or NULL when it is none kcb knows of. */
const char *kcb__foreign_kind(const char *path);

#endif
