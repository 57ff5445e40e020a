using System.Globalization;
using System.Text;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// Reads the prompt syntax (hand-written: the rules below are ours, a small superset of the original
/// <c>parse_prompt</c>, which is <c>rsplit(':', 2)</c> plus <c>float()</c>):
/// <list type="bullet">
/// <item><c>^</c> separates story phases (the run switches phase every N steps, looping); <c>|</c> separates prompts
/// of one phase. Surrounding whitespace is trimmed.</item>
/// <item>Each prompt is <c>text[:weight[:stop]]</c>, read from the right like the original: the last two
/// colon-separated fields are weight and stop. A field counts as a number field only when it follows its colon
/// directly: a colon followed by whitespace, '/' or '\' belongs to the text, so <c>"Title: subtitle"</c>,
/// <c>"https://host/a.png"</c> and <c>"C:\art\a.png:0.5"</c> read as you'd expect.</item>
/// <item>A number field must be a number (invariant culture, e.g. <c>1.5</c>, <c>-0.5</c>, <c>1e-2</c>); the weight must
/// be finite (negative steers away), the stop finite or <c>-inf</c>. Anything else is an error naming the column.</item>
/// <item><c>\:</c>, <c>\|</c> and <c>\^</c> are a literal ':', '|', '^' in the text; any other backslash is kept as is.</item>
/// </list>
/// Whether a text names an image file is decided when prompts are encoded, not here (the parser touches no files).
/// </summary>
public static class PromptParser
{
    /// <summary>Parses a whole prompt string into story phases of prompts.</summary>
    public static PromptScript Parse(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chars = Lex(input);
        if (chars.All(c => char.IsWhiteSpace(c.Char)))
            throw new PromptParseException(input, 1, "The prompt is empty: write what to draw, e.g. 'a red rose' or 'a red rose:1.5|a vase:-0.5'");

        var phases = new List<IReadOnlyList<PromptSpec>>();
        var phaseParts = Split(chars, '^');
        for (int p = 0; p < phaseParts.Count; p++)
        {
            var phase = phaseParts[p];
            if (phase.Chars.All(c => char.IsWhiteSpace(c.Char)))
                throw new PromptParseException(input, phase.SeparatorColumn(input),
                    phaseParts.Count == 1 ? "The prompt is empty" : $"Story phase {p + 1} is empty: remove the extra '^' or write prompts between them");
            var prompts = new List<PromptSpec>();
            var promptParts = Split(phase.Chars, '|', phase.StartColumn);
            for (int i = 0; i < promptParts.Count; i++)
            {
                var part = promptParts[i];
                if (part.Chars.All(c => char.IsWhiteSpace(c.Char)))
                    throw new PromptParseException(input, part.SeparatorColumn(input),
                        $"Prompt {i + 1}{(phaseParts.Count > 1 ? $" of story phase {p + 1}" : "")} is empty: remove the extra '|' or write a prompt between them");
                prompts.Add(ParsePrompt(input, part.Chars, PromptSource.Text, "Prompt text"));
            }
            phases.Add(prompts);
        }
        return new PromptScript(input, phases);
    }

    /// <summary>Parses a single text prompt (no '|' or '^' splitting: those characters are literal here).</summary>
    public static PromptSpec ParseOne(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chars = Lex(input);
        if (chars.All(c => char.IsWhiteSpace(c.Char)))
            throw new PromptParseException(input, 1, "The prompt is empty");
        return ParsePrompt(input, chars, PromptSource.Text, "Prompt text");
    }

    /// <summary>Parses an image prompt <c>path[:weight[:stop]]</c> (same field rules; the file is checked when encoded).</summary>
    public static PromptSpec ParseImage(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chars = Lex(input);
        if (chars.All(c => char.IsWhiteSpace(c.Char)))
            throw new PromptParseException(input, 1, "The image prompt is empty: write FILE or FILE:WEIGHT");
        return ParsePrompt(input, chars, PromptSource.Image, "Image path");
    }

    /// <summary>Parses an audio prompt <c>file.wav[:weight[:stop]]</c> (same field rules; the file is read when encoded).</summary>
    public static PromptSpec ParseAudio(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chars = Lex(input);
        if (chars.All(c => char.IsWhiteSpace(c.Char)))
            throw new PromptParseException(input, 1, "The audio prompt is empty: write FILE.wav or FILE.wav:WEIGHT");
        return ParsePrompt(input, chars, PromptSource.Audio, "Audio path");
    }

    /// <summary>Parses a noise prompt <c>seed[:weight]</c>: an integer seed and an optional weight.</summary>
    public static PromptSpec ParseNoise(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chars = Lex(input);
        if (chars.All(c => char.IsWhiteSpace(c.Char)))
            throw new PromptParseException(input, 1, "The noise prompt is empty: write SEED or SEED:WEIGHT");
        var spec = ParsePrompt(input, chars, PromptSource.Noise, "Noise seed");
        if (!double.IsNegativeInfinity(spec.Stop))
            throw new PromptParseException(input, input.LastIndexOf(':') + 2, "A noise prompt takes a seed and a weight only (SEED:WEIGHT), not a stop");
        if (!long.TryParse(spec.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            throw new PromptParseException(input, spec.Column, $"Noise seed '{spec.Text}' is not an integer");
        return spec;
    }

    // ---- implementation ----

    private readonly record struct LexChar(char Char, int Column, bool Escaped);

    private sealed record Part(List<LexChar> Chars, int StartColumn, int EndColumn, int SeparatorBefore, int SeparatorAfter)
    {
        /// <summary>Column to blame for an empty part: the separator after it, else the one before, else its start.</summary>
        public int SeparatorColumn(string input) =>
            SeparatorAfter > 0 ? SeparatorAfter : SeparatorBefore > 0 ? SeparatorBefore : Math.Max(1, Math.Min(StartColumn, input.Length));
    }

    private static List<LexChar> Lex(string input)
    {
        var list = new List<LexChar>(input.Length);
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] == '\\' && i + 1 < input.Length && input[i + 1] is ':' or '|' or '^')
            {
                list.Add(new LexChar(input[i + 1], i + 1, true));
                i++;
            }
            else list.Add(new LexChar(input[i], i + 1, false));
        }
        return list;
    }

    private static List<Part> Split(List<LexChar> chars, char separator, int startColumn = 1)
    {
        var parts = new List<Part>();
        var current = new List<LexChar>();
        int partStart = chars.Count > 0 ? chars[0].Column : startColumn;
        int sepBefore = 0;
        foreach (var c in chars)
        {
            if (c.Char == separator && !c.Escaped)
            {
                parts.Add(new Part(current, partStart, c.Column, sepBefore, c.Column));
                current = new List<LexChar>();
                partStart = c.Column + 1;
                sepBefore = c.Column;
            }
            else current.Add(c);
        }
        parts.Add(new Part(current, partStart, chars.Count > 0 ? chars[^1].Column + 1 : startColumn, sepBefore, 0));
        return parts;
    }

    private static PromptSpec ParsePrompt(string input, List<LexChar> chars, PromptSource source, string what)
    {
        var trimmed = Trim(chars);
        var colons = new List<int>();
        for (int i = 0; i < trimmed.Count; i++)
            if (trimmed[i].Char == ':' && !trimmed[i].Escaped) colons.Add(i);

        int textEnd = trimmed.Count;
        List<LexChar>? weightField = null, stopField = null;
        int weightColon = -1, stopColon = -1;
        if (colons.Count > 0 && IsNumberField(trimmed, colons[^1]))
        {
            int last = colons[^1];
            if (colons.Count > 1 && IsNumberField(trimmed, colons[^2]))
            {
                int prev = colons[^2];
                weightColon = prev; stopColon = last;
                weightField = trimmed.GetRange(prev + 1, last - prev - 1);
                stopField = trimmed.GetRange(last + 1, trimmed.Count - last - 1);
                textEnd = prev;
            }
            else
            {
                weightColon = last;
                weightField = trimmed.GetRange(last + 1, trimmed.Count - last - 1);
                textEnd = last;
            }
        }

        var textChars = Trim(trimmed.GetRange(0, textEnd));
        if (textChars.Count == 0)
        {
            int col = trimmed.Count > 0 ? trimmed[0].Column : 1;
            throw new PromptParseException(input, col, $"{what} is empty before ':' (write text:weight, e.g. 'a red rose:1.5')");
        }
        var text = new string(textChars.Select(c => c.Char).ToArray());

        double weight = 1.0, stop = double.NegativeInfinity;
        if (weightField is not null)
            weight = ParseNumber(input, weightField, trimmed[weightColon].Column, "Weight", allowNegativeInfinity: false);
        if (stopField is not null)
            stop = ParseNumber(input, stopField, trimmed[stopColon].Column, "Stop", allowNegativeInfinity: true);
        return new PromptSpec(source, text, weight, stop, textChars[0].Column);
    }

    /// <summary>A field after a colon is a number field unless it starts with whitespace, '/' or '\' (then the colon is text).</summary>
    private static bool IsNumberField(List<LexChar> chars, int colonIndex)
    {
        if (colonIndex + 1 >= chars.Count) return true; // empty field: a number field that is missing its number (an error)
        var next = chars[colonIndex + 1];
        if (next.Escaped) return true;
        return !(char.IsWhiteSpace(next.Char) || next.Char is '/' or '\\');
    }

    private static double ParseNumber(string input, List<LexChar> field, int colonColumn, string name, bool allowNegativeInfinity)
    {
        var raw = new string(field.Select(c => c.Char).ToArray());
        int col = field.Count > 0 ? field[0].Column : colonColumn + 1;
        if (field.Count == 0)
            throw new PromptParseException(input, colonColumn, $"{name} after ':' is empty: write a number (e.g. 'a red rose:1.5'), or '\\:' for a literal colon");
        if (field.Any(c => c.Char == ':'))
            throw new PromptParseException(input, col, $"{name} '{raw}' is not a number");
        var s = raw.Trim();
        double value;
        if (s is "-inf" or "-Infinity" or "-infinity") value = double.NegativeInfinity;
        else if (s is "inf" or "+inf" or "Infinity" or "infinity" or "+Infinity") value = double.PositiveInfinity;
        else if (s.Equals("nan", StringComparison.OrdinalIgnoreCase))
            throw new PromptParseException(input, col, $"{name} '{raw}' is not a number");
        else if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            throw new PromptParseException(input, col, $"{name} '{raw}' is not a number (expected e.g. 1.5, -0.5 or 1e-2; write '\\:' for a literal colon in the text)");

        if (double.IsNaN(value))
            throw new PromptParseException(input, col, $"{name} '{raw}' is not a number");
        if (double.IsPositiveInfinity(value))
            throw new PromptParseException(input, col, allowNegativeInfinity ? $"{name} '{raw}' must be finite or -inf" : $"{name} '{raw}' must be a finite number");
        if (double.IsNegativeInfinity(value) && !allowNegativeInfinity)
            throw new PromptParseException(input, col, $"{name} '{raw}' must be a finite number");
        return value;
    }

    private static List<LexChar> Trim(List<LexChar> chars)
    {
        int start = 0, end = chars.Count;
        while (start < end && char.IsWhiteSpace(chars[start].Char) && !chars[start].Escaped) start++;
        while (end > start && char.IsWhiteSpace(chars[end - 1].Char) && !chars[end - 1].Escaped) end--;
        return chars.GetRange(start, end - start);
    }
}
