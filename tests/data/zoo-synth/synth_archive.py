"""What the small zoo-synth generators share (make_dup_names.py, make_shared_nested.py,
make_spectral.py): a Keras 3.15.1 .keras archive of a config and a weights store, the legacy
model_config, which has no module, registered_name, build_config or compile_config, and the top of
a legacy .h5."""
import io, json, zipfile
import h5py


def write_keras(path, cfg, store):
    """A .keras archive: metadata.json, config.json and the store that `store(h5file)` writes."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h:
        store(h)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-05-01@10:00:00"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", buf.getvalue())


def strip(e):
    """A config.json entry as a legacy model_config has it."""
    if isinstance(e, dict):
        return {k: strip(v) for k, v in e.items() if k not in ("module", "registered_name", "build_config", "compile_config")}
    if isinstance(e, list):
        return [strip(x) for x in e]
    return e


def legacy_model_weights(h, cfg, layer_names):
    """The attributes of a Keras 3.15.1 legacy .h5 and its model_weights group, listing
    layer_names (returned, for the layers' groups)."""
    h.attrs["backend"] = "tensorflow"; h.attrs["keras_version"] = "3.15.1"
    h.attrs["model_config"] = json.dumps(strip(cfg)).encode()
    mw = h.create_group("model_weights")
    mw.attrs["layer_names"] = [n.encode() for n in layer_names]
    mw.attrs["backend"] = b"tensorflow"; mw.attrs["keras_version"] = b"3.15.1"
    return mw
