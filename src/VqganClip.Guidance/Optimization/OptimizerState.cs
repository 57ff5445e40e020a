using System.Reflection;
using System.Text.Json.Nodes;
using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Optimization;

/// <summary>
/// Saves and restores a TorchSharp optimizer's state as plain tensors + JSON, for any of the built-in optimizers:
/// TorchSharp's <c>state_dict()</c> exposes, per parameter, a state object whose public fields are tensors
/// (exp_avg, ...) or numbers (step, ...), and per group an options object (lr, betas, ...). We copy those fields
/// by reflection (TorchSharp's own save format is a private binary stream; this keeps a run folder readable and
/// in safetensors). Restoring copies values into the live optimizer, so a resumed run continues bit-for-bit.
/// </summary>
public static class OptimizerStateIO
{
    private const BindingFlags Fields = BindingFlags.Public | BindingFlags.Instance;

    /// <summary>Tensors named <c>{prefix}{param}.{field}</c> (copies; caller disposes) and a JSON object with everything else.</summary>
    public static (List<(string Name, Tensor Tensor)> Tensors, JsonObject Json) Save(optim.Optimizer optimizer, string prefix = "optimizer.")
    {
        var helper = optimizer as TorchSharp.Modules.OptimizerHelper
            ?? throw new NotSupportedException($"Saving the state of {optimizer.GetType().Name} is not supported.");
        var sd = helper.state_dict();
        var tensors = new List<(string, Tensor)>();
        var json = new JsonObject { ["type"] = optimizer.GetType().Name };
        var groups = new JsonArray();
        foreach (var options in sd.Options)
        {
            var g = new JsonObject();
            foreach (var (name, value) in Members(options))
                if (ToJson(value) is { } node) g[name] = node;
            groups.Add(g);
        }
        json["groups"] = groups;
        var states = new JsonArray();
        for (int i = 0; i < sd.State.Count; i++)
        {
            var s = new JsonObject();
            foreach (var f in sd.State[i].GetType().GetFields(Fields))
            {
                var value = f.GetValue(sd.State[i]);
                if (f.FieldType == typeof(Tensor))
                {
                    if (value is Tensor t) tensors.Add(($"{prefix}{i}.{f.Name}", t.detach().cpu().clone()));
                    else s[f.Name] = null;
                }
                else if (ToJson(value) is { } node) s[f.Name] = node;
            }
            states.Add(s);
        }
        json["states"] = states;
        return (tensors, json);
    }

    /// <summary>Restores what <see cref="Save"/> wrote into an optimizer of the same type over the same parameters.</summary>
    public static void Load(optim.Optimizer optimizer, JsonObject json, StateDict tensors, string prefix = "optimizer.")
    {
        var helper = optimizer as TorchSharp.Modules.OptimizerHelper
            ?? throw new NotSupportedException($"Loading the state of {optimizer.GetType().Name} is not supported.");
        var type = json["type"]?.GetValue<string>();
        if (type != optimizer.GetType().Name)
            throw new InvalidDataException($"The saved optimizer state is for {type}, but the run uses {optimizer.GetType().Name}.");
        var sd = helper.state_dict();
        var groups = json["groups"]!.AsArray();
        var states = json["states"]!.AsArray();
        if (groups.Count != sd.Options.Count || states.Count != sd.State.Count)
            throw new InvalidDataException($"The saved optimizer state has {groups.Count} group(s) and {states.Count} parameter state(s); the run has {sd.Options.Count} and {sd.State.Count}.");

        for (int gi = 0; gi < groups.Count; gi++)
        {
            var g = groups[gi]!.AsObject();
            var options = sd.Options[gi];
            foreach (var (name, node) in g)
                SetMember(options, name, node);
        }
        using var _ = no_grad();
        for (int i = 0; i < states.Count; i++)
        {
            var state = sd.State[i];
            var s = states[i]!.AsObject();
            foreach (var f in state.GetType().GetFields(Fields))
            {
                if (f.FieldType == typeof(Tensor))
                {
                    var current = (Tensor?)f.GetValue(state);
                    if (tensors.TryGetValue($"{prefix}{i}.{f.Name}", out var saved))
                    {
                        if (current is not null && current.shape.SequenceEqual(saved.shape))
                            current.copy_(saved);
                        else
                        {
                            current?.Dispose();
                            f.SetValue(state, saved.to(DeviceOf(sd, i, saved)).clone());
                        }
                    }
                    else if (current is not null && s.ContainsKey(f.Name))
                    {
                        current.Dispose();
                        f.SetValue(state, null);
                    }
                }
                else if (s.TryGetPropertyValue(f.Name, out var node))
                    f.SetValue(state, FromJson(node, f.FieldType));
            }
        }
    }

    private static Device DeviceOf(optim.Optimizer.StateDictionary sd, int index, Tensor fallback) =>
        sd.State[index].GetType().GetFields(Fields).Select(f => f.GetValue(sd.State[index])).OfType<Tensor>().FirstOrDefault()?.device ?? fallback.device;

    private static IEnumerable<(string Name, object? Value)> Members(object o)
    {
        foreach (var f in o.GetType().GetFields(Fields)) yield return (f.Name, f.GetValue(o));
        foreach (var p in o.GetType().GetProperties(Fields))
            if (p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0) yield return (p.Name, p.GetValue(o));
    }

    private static void SetMember(object o, string name, JsonNode? node)
    {
        var f = o.GetType().GetField(name, Fields);
        if (f is not null) { f.SetValue(o, FromJson(node, f.FieldType)); return; }
        var p = o.GetType().GetProperty(name, Fields);
        if (p is not null && p.CanWrite) p.SetValue(o, FromJson(node, p.PropertyType));
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        // JSON has no infinities/NaN: write those as text ("Infinity"), read back by FromJson
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        float f => JsonValue.Create((double)f),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        bool b => JsonValue.Create(b),
        _ => null,
    };

    private static object? FromJson(JsonNode? node, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (node is null) return null;
        var v = node.AsValue();
        if (target == typeof(double))
            return v.TryGetValue<double>(out var d) ? d : double.Parse(v.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        if (target == typeof(float)) return (float)v.GetValue<double>();
        if (target == typeof(long)) return v.GetValue<long>();
        if (target == typeof(int)) return v.GetValue<int>();
        if (target == typeof(bool)) return v.GetValue<bool>();
        return null;
    }
}
