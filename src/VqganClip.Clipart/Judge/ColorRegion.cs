namespace VqganClip.Clipart.Judge;

/// <summary>
/// One colour's pixels after cleaning (connected components far from the largest one are
/// dropped: stray fringe pixels round other objects), with the numbers the judge checks.
/// Fractions are of the image side (coordinates) or area (masses).
/// </summary>
public sealed class ColorRegion
{
    private ColorRegion(bool[] mask, int side, int count, int core, float cx, float cy, int x0, int y0, int x1, int y1)
    {
        Mask = mask;
        Side = side;
        PixelCount = count;
        CorePixelCount = core;
        CentroidX = cx;
        CentroidY = cy;
        BoxLeft = x0;
        BoxTop = y0;
        BoxRight = x1;
        BoxBottom = y1;
    }

    public bool[] Mask { get; }
    public int Side { get; }
    public int PixelCount { get; }

    /// <summary>Pixels with at least 3 of their 4 neighbours in the region: the interior, without 1-pixel fringes.</summary>
    public int CorePixelCount { get; }

    public float Mass => PixelCount / (float)(Side * Side);
    public float CoreMass => CorePixelCount / (float)(Side * Side);
    public float CentroidX { get; }
    public float CentroidY { get; }

    /// <summary>Inclusive pixel bounding box (empty region: 0,0,-1,-1).</summary>
    public int BoxLeft { get; }
    public int BoxTop { get; }
    public int BoxRight { get; }
    public int BoxBottom { get; }

    public bool IsEmpty => PixelCount == 0;

    /// <summary>Region pixels over bounding-box pixels.</summary>
    public float Fill => IsEmpty ? 0f : PixelCount / (float)((BoxRight - BoxLeft + 1) * (BoxBottom - BoxTop + 1));

    public static ColorRegion FromMask(bool[] raw, int side)
    {
        var mask = KeepMainComponents(raw, side);
        int count = 0, core = 0, x0 = side, y0 = side, x1 = -1, y1 = -1;
        double sx = 0, sy = 0;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                if (!mask[y * side + x]) continue;
                count++;
                sx += x + 0.5;
                sy += y + 0.5;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                int neighbours = (x > 0 && mask[y * side + x - 1] ? 1 : 0) + (x < side - 1 && mask[y * side + x + 1] ? 1 : 0)
                               + (y > 0 && mask[(y - 1) * side + x] ? 1 : 0) + (y < side - 1 && mask[(y + 1) * side + x] ? 1 : 0);
                if (neighbours >= 3) core++;
            }
        if (count == 0)
            return new ColorRegion(mask, side, 0, 0, float.NaN, float.NaN, 0, 0, -1, -1);
        return new ColorRegion(mask, side, count, core, (float)(sx / count / side), (float)(sy / count / side), x0, y0, x1, y1);
    }

    /// <summary>
    /// 8-connected components; keeps the largest, specks touching its box (gap of 2 pixels or less), and
    /// parts of at least 5% of its size within 0.6 of its size: a sun keeps its rays, the fringe of
    /// another object is dropped.
    /// </summary>
    private static bool[] KeepMainComponents(bool[] raw, int side)
    {
        var component = new int[raw.Length];
        var boxes = new List<(int Size, int X0, int Y0, int X1, int Y1)> { default };
        var stack = new Stack<int>();
        for (int start = 0; start < raw.Length; start++)
        {
            if (!raw[start] || component[start] != 0) continue;
            int id = boxes.Count, size = 0, x0 = side, y0 = side, x1 = -1, y1 = -1;
            component[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                size++;
                int px = p % side, py = p / side;
                x0 = Math.Min(x0, px); x1 = Math.Max(x1, px);
                y0 = Math.Min(y0, py); y1 = Math.Max(y1, py);
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int qx = px + dx, qy = py + dy;
                        if (qx < 0 || qy < 0 || qx >= side || qy >= side) continue;
                        int q = qy * side + qx;
                        if (raw[q] && component[q] == 0)
                        {
                            component[q] = id;
                            stack.Push(q);
                        }
                    }
            }
            boxes.Add((size, x0, y0, x1, y1));
        }

        var mask = new bool[raw.Length];
        if (boxes.Count == 1) return mask;
        int main = 1;
        for (int id = 2; id < boxes.Count; id++)
            if (boxes[id].Size > boxes[main].Size) main = id;
        var m = boxes[main];
        float reach = Math.Max(3f, 0.6f * Math.Max(m.X1 - m.X0 + 1, m.Y1 - m.Y0 + 1));
        var keep = new bool[boxes.Count];
        for (int id = 1; id < boxes.Count; id++)
        {
            var b = boxes[id];
            float gapX = Math.Max(0, Math.Max(m.X0 - b.X1, b.X0 - m.X1));
            float gapY = Math.Max(0, Math.Max(m.Y0 - b.Y1, b.Y0 - m.Y1));
            float gap = MathF.Sqrt(gapX * gapX + gapY * gapY);
            // Touching specks (a sun's small rays) always stay; farther parts only when sizeable,
            // so one fringe pixel by another object cannot stretch the region's box.
            keep[id] = id == main || gap <= 2f || (gap <= reach && b.Size >= 0.05f * m.Size);
        }
        for (int i = 0; i < raw.Length; i++)
            mask[i] = component[i] != 0 && keep[component[i]];
        return mask;
    }
}
