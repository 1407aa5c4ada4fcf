using PuppeteerSharp;

namespace IoiBench.Tests.Reports;

/// <summary>A test that opens pages in headless Chromium; skipped, with the reason shown, where Chromium is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.Executable is null) Skip = "Chromium is not installed (Debian: chromium; tools/test.sh installs it)";
    }
}

/// <summary>What a page did in headless Chromium: its script errors, every SVG's size and mark count, and a screenshot.</summary>
internal sealed record RenderedPage(IReadOnlyList<string> Errors, IReadOnlyList<RenderedSvg> Svgs, string Screenshot);

/// <summary>An SVG as laid out: its title (the first text element), its on-screen area and how many marks it draws.</summary>
internal sealed record RenderedSvg(string Title, double Area, int Marks);

internal static class HeadlessChromium
{
    public static string? Executable { get; } =
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    /// <summary>
    /// Opens <paramref name="file"/>, collects console errors and uncaught exceptions, measures every SVG and writes a
    /// full-page screenshot next to the test binaries (TestResults/NAME.png), for a person to look at.
    /// </summary>
    public static async Task<RenderedPage> Render(string file, string screenshotName)
    {
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Executable, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 900 });
        var errors = new List<string>();
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) lock (errors) errors.Add(e.Message.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e.Message); };
        page.RequestFailed += (_, e) => { lock (errors) errors.Add($"request failed: {e.Request.Url}"); };
        await page.GoToAsync(new Uri(Path.GetFullPath(file)).AbsoluteUri, WaitUntilNavigation.Load);
        var svgs = await page.EvaluateExpressionAsync<RenderedSvg[]>("""
            [...document.querySelectorAll('svg')].map(svg => {
              const box = svg.getBoundingClientRect();
              const text = svg.querySelector('text');
              return { title: text ? text.textContent : '', area: box.width * box.height,
                       marks: svg.querySelectorAll('circle, rect, path, polygon, line, polyline').length };
            })
            """);
        string directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        string screenshot = Path.Combine(directory, screenshotName + ".png");
        await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });
        return new RenderedPage(errors, svgs, screenshot);
    }
}
