FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
# DejaVu for the social preview images (commitments/previews.py; Pillow's own font otherwise);
# gettext's msgfmt compiles the French catalogues.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
    && DEBUG=0 SECRET_KEY=build-only python manage.py compilemessages --verbosity 0
RUN useradd --create-home tracker && mkdir -p /app/var && chown -R tracker /app/var
USER tracker
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "4", "--http1-header-read-timeout", "10000", "--access-log", "accountability.wsgi:application"]
