namespace VqganClip.Guidance.Cutouts;

/// <summary>3×3 matrix helpers in plain doubles (cutout transforms are a handful of small matrices per step).</summary>
internal static class Homography
{
    public static double[,] Multiply(double[,] a, double[,] b)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                r[i, j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j];
        return r;
    }

    public static double[,] Identity() => new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };

    /// <summary>
    /// The projective map sending the four points <paramref name="from"/> to <paramref name="to"/> (direct linear
    /// transform with h33 = 1, solved by Gaussian elimination with partial pivoting).
    /// </summary>
    public static double[,] FromCorrespondences((double X, double Y)[] from, (double X, double Y)[] to)
    {
        var a = new double[8, 9];
        for (int i = 0; i < 4; i++)
        {
            var (x, y) = from[i];
            var (u, v) = to[i];
            int r = 2 * i;
            a[r, 0] = x; a[r, 1] = y; a[r, 2] = 1; a[r, 6] = -u * x; a[r, 7] = -u * y; a[r, 8] = u;
            a[r + 1, 3] = x; a[r + 1, 4] = y; a[r + 1, 5] = 1; a[r + 1, 6] = -v * x; a[r + 1, 7] = -v * y; a[r + 1, 8] = v;
        }
        for (int col = 0; col < 8; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < 8; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (Math.Abs(a[pivot, col]) < 1e-12) throw new ArithmeticException("Degenerate perspective corners.");
            if (pivot != col)
                for (int c = 0; c < 9; c++) (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            for (int r = 0; r < 8; r++)
            {
                if (r == col) continue;
                double f = a[r, col] / a[col, col];
                if (f == 0) continue;
                for (int c = col; c < 9; c++) a[r, c] -= f * a[col, c];
            }
        }
        var h = new double[8];
        for (int i = 0; i < 8; i++) h[i] = a[i, 8] / a[i, i];
        return new double[,] { { h[0], h[1], h[2] }, { h[3], h[4], h[5] }, { h[6], h[7], 1 } };
    }
}
